"""The template media library (`/admin/media`): list, upload and delete the images slots use as templates
and frames."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask

from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.rendering import done_banner, error_message, render, rerender, see_other, translator
from photochanger.admin.routing import AdminRoute
from photochanger.admin.uploads import discard, read_form_upload
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.errors import PhotoChangerError
from photochanger.core.storage import unlink_quietly
from photochanger.deps import ConfigDep, MediaLayoutDep, ProvidersDep
from photochanger.i18n import N_
from photochanger.media import service as media_service
from photochanger.media.exceptions import TemplateMediaInUse
from photochanger.settings import service as settings_service

DONE = {"uploaded": N_("Uploaded."), "deleted": N_("Deleted.")}

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Writer = Annotated[Principal, admin_requires(permissions.MEDIA_WRITE)]


async def _media_page(
    request: Request,
    session: SessionDep,
    providers: ProvidersDep,
    *,
    banner: str | None = None,
    banner_kind: str = "ok",
    status_code: int = 200,
) -> Response:
    media = await media_service.list_media(session, providers)
    return render(request, "media.html", status_code, media=media, banner=banner, banner_kind=banner_kind)


@router.get("/media")
async def media_library(
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.MEDIA_READ)],
    session: SessionDep,
    providers: ProvidersDep,
    done: str | None = None,
) -> Response:
    return await _media_page(request, session, providers, banner=done_banner(request, DONE, done))


@router.post("/media")
async def upload_media(
    request: Request,
    principal: Writer,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    layout: MediaLayoutDep,
) -> Response:
    runtime = await settings_service.load(session)
    parsed = await read_form_upload(request, cap_mb=runtime.upload_max_mb, purpose="template")
    try:
        try:
            await media_service.add(
                session,
                parsed,
                layout=layout,
                max_pixels=config.max_image_pixels,
                min_free_mb=config.min_free_disk_mb,
                actor=principal,
            )
        except PhotoChangerError as exc:
            return await rerender(
                session, _media_page, request, session, providers,
                banner=error_message(request, exc), banner_kind="error", status_code=exc.status_code,
            )  # fmt: skip
    finally:
        await discard(parsed.path)
    return see_other("/admin/media?done=uploaded")


@router.post("/media/{media_id}/delete")
async def delete_media(
    media_id: str,
    request: Request,
    principal: Writer,
    _form: CsrfFormDep,
    session: SessionDep,
    providers: ProvidersDep,
    layout: MediaLayoutDep,
) -> Response:
    try:
        path = await media_service.delete(session, providers, layout, media_id, actor=principal)
    except TemplateMediaInUse as exc:
        t = translator(request)
        used = ", ".join(exc.extra.get("used_by", []))
        banner = f"{t.gettext('Used by %(slots)s', slots=used)}. {t.gettext('Change these slots first.')}"
        return await rerender(
            session, _media_page, request, session, providers,
            banner=banner, banner_kind="error", status_code=409,
        )  # fmt: skip
    # The file goes only after the response, i.e. after the row's deletion has been committed.
    response = see_other("/admin/media?done=deleted")
    response.background = BackgroundTask(unlink_quietly, path)
    return response
