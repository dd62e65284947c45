"""`POST /admin/results/{job_id}/delete` (mounted under `/admin` by `admin.router`): remove one photo from
the gallery and from its guest links, e.g. when a guest asks; the files go after the commit."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.background import BackgroundTask

from photochanger.admin.deps import admin_requires, csrf_form
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.storage import MediaLayout, unlink_quietly
from photochanger.public.service import ResultCache
from photochanger.slots import results

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.post("/results/{job_id}/delete")
async def delete_result(
    job_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)],
    session: SessionDep,
) -> Response:
    await csrf_form(request)
    slot_id, paths = await results.remove_result(session, job_id, actor=principal)
    cache: ResultCache = request.app.state.result_cache
    cache.discard(job_id)
    config: AppConfig = request.app.state.config
    layout = MediaLayout(config.media_root)
    files = [layout.resolve(p) for p in paths]

    def remove_files() -> None:
        for path in files:
            unlink_quietly(path)

    response = RedirectResponse(f"/admin/slots/{slot_id}/gallery?removed=1", status_code=303)
    response.background = BackgroundTask(remove_files)
    return response
