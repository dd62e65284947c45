"""A slot's gallery (`/admin/slots/{id}/gallery`): its recent results and failures, and the switch of its
15-minute public gallery."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from photochanger.admin import live
from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.pages.dashboard import GALLERY_SIZE
from photochanger.admin.rendering import render, see_other
from photochanger.admin.routing import AdminRoute
from photochanger.admin.views import catalogue_titles
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.deps import ConfigDep, ProvidersDep
from photochanger.guest import gallery as public_gallery
from photochanger.problems import service as problems_service
from photochanger.slots import service as slots_service

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Writer = Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)]


async def _gallery_page(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    slot_id: str,
    **extra: Any,
) -> Response:
    slot = await slots_service.get_slot(session, config, slot_id, limit=1)
    results = await live.gallery_state(session, config, slot_id, limit=GALLERY_SIZE)
    return render(
        request,
        "gallery.html",
        slot=slot,
        results=results["results"],
        titles=catalogue_titles(request, providers),
        **extra,
    )


@router.get("/slots/{slot_id}/gallery")
async def gallery(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.RESULTS_READ)],
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
    nothing_to_download: bool = False,
    removed: bool = False,
) -> Response:
    return await _gallery_page(
        request, session, config, providers, slot_id,
        public_until=await public_gallery.open_until(session, slot_id), public_link=None,
        failures=await problems_service.failed_jobs(session, slot_id, limit=GALLERY_SIZE),
        nothing_to_download=nothing_to_download, removed=removed,
    )  # fmt: skip


@router.post("/slots/{slot_id}/gallery/open")
async def open_public_gallery(
    slot_id: str,
    request: Request,
    principal: Writer,
    _form: CsrfFormDep,
    session: SessionDep,
    config: ConfigDep,
    providers: ProvidersDep,
) -> Response:
    """Open the slot's public gallery for 15 minutes; the link is shown once, on this page."""
    opened = await public_gallery.open_gallery(session, slot_id, actor=principal)
    return await _gallery_page(
        request, session, config, providers, opened.slot_id,
        public_until=opened.expires_at, public_link=config.absolute_url(opened.path),
    )  # fmt: skip


@router.post("/slots/{slot_id}/gallery/close")
async def close_public_gallery(
    slot_id: str, principal: Writer, _form: CsrfFormDep, session: SessionDep
) -> Response:
    await public_gallery.close_gallery(session, slot_id, actor=principal)
    return see_other(f"/admin/slots/{quote(slot_id)}/gallery")
