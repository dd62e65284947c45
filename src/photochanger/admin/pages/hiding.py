"""`POST /admin/results/{job_id}/hide` and `…/show`, and the signed-in views of a stored result
(`…/preview`, `…/file`; mounted under `/admin` by `admin.router`): a guest asked for a photo to be taken
down, so it leaves every guest surface but stays in the admin gallery, marked hidden, until shown again."""

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from photochanger.admin.router import AdminDep, AdminRoute, csrf_form, need
from photochanger.auth import permissions
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.storage import MediaLayout
from photochanger.public.service import ResultCache, ResultNotFound
from photochanger.slots import hiding

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


async def _set(
    job_id: str, request: Request, principal: AdminDep, session: SessionDep, *, hidden: bool
) -> Response:
    need(principal, permissions.SLOTS_WRITE)
    await csrf_form(request)
    slot_id = await hiding.set_hidden(session, job_id, hidden=hidden, actor=principal)
    cache: ResultCache = request.app.state.result_cache
    cache.discard(job_id)
    done = "hidden" if hidden else "shown"
    return RedirectResponse(f"/admin/slots/{slot_id}/gallery?done={done}", status_code=303)


@router.post("/results/{job_id}/hide")
async def hide_result(job_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    return await _set(job_id, request, principal, session, hidden=True)


@router.post("/results/{job_id}/show")
async def show_result(job_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    return await _set(job_id, request, principal, session, hidden=False)


async def _stored(
    job_id: str, request: Request, principal: AdminDep, session: SessionDep, *, preview: bool
) -> Response:
    need(principal, permissions.RESULTS_READ)
    relpath, media_type = await hiding.stored_file(session, job_id, preview=preview)
    config: AppConfig = request.app.state.config
    path = MediaLayout(config.media_root).resolve(relpath)
    if not path.is_file():
        raise ResultNotFound("The result's file is missing.")
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/results/{job_id}/preview")
async def stored_preview(job_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    return await _stored(job_id, request, principal, session, preview=True)


@router.get("/results/{job_id}/file")
async def stored_result(job_id: str, request: Request, principal: AdminDep, session: SessionDep) -> Response:
    return await _stored(job_id, request, principal, session, preview=False)
