"""`POST /admin/results/{job_id}/hide` and `…/show`, and the signed-in views of a stored result
(`…/preview`, `…/file`; mounted under `/admin` by `admin.router`): a guest asked for a photo to be taken
down, so it leaves every guest surface but stays in the admin gallery, marked hidden, until shown again."""

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response

from photochanger.admin.deps import CsrfFormDep, admin_requires
from photochanger.admin.rendering import see_other
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.core.db import SessionDep
from photochanger.core.media_responses import stored_response
from photochanger.deps import MediaStoreDep, ResultCacheDep
from photochanger.public.service import ResultNotFound
from photochanger.slots import hiding

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)
Writer = Annotated[Principal, admin_requires(permissions.SLOTS_WRITE)]
Reader = Annotated[Principal, admin_requires(permissions.RESULTS_READ)]


async def _set(
    job_id: str, principal: Principal, session: SessionDep, cache: ResultCacheDep, *, hidden: bool
) -> Response:
    slot_id = await hiding.set_hidden(session, job_id, hidden=hidden, actor=principal)
    cache.discard(job_id)  # this process at once; the others through the notification at commit
    done = "hidden" if hidden else "shown"
    return see_other(f"/admin/slots/{slot_id}/gallery?done={done}")


@router.post("/results/{job_id}/hide")
async def hide_result(
    job_id: str, principal: Writer, _form: CsrfFormDep, session: SessionDep, cache: ResultCacheDep
) -> Response:
    return await _set(job_id, principal, session, cache, hidden=True)


@router.post("/results/{job_id}/show")
async def show_result(
    job_id: str, principal: Writer, _form: CsrfFormDep, session: SessionDep, cache: ResultCacheDep
) -> Response:
    return await _set(job_id, principal, session, cache, hidden=False)


async def _stored(job_id: str, session: SessionDep, store: MediaStoreDep, *, preview: bool) -> Response:
    relpath, media_type = await hiding.stored_file(session, job_id, preview=preview)
    return await stored_response(
        store,
        relpath,
        media_type=media_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        missing=lambda: ResultNotFound("The result's file is missing."),
    )


@router.get("/results/{job_id}/preview")
async def stored_preview(
    job_id: str, _principal: Reader, session: SessionDep, store: MediaStoreDep
) -> Response:
    return await _stored(job_id, session, store, preview=True)


@router.get("/results/{job_id}/file")
async def stored_result(
    job_id: str, _principal: Reader, session: SessionDep, store: MediaStoreDep
) -> Response:
    return await _stored(job_id, session, store, preview=False)
