"""`GET /admin/slots/{id}/results.zip` (mounted under `/admin` by `admin.router`): the gallery's ZIP, booth
shots only unless test runs are asked for; with nothing to put in it, back to the gallery saying so."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from photochanger.admin.deps import admin_requires
from photochanger.admin.routing import AdminRoute
from photochanger.auth import permissions
from photochanger.auth.dependencies import Principal
from photochanger.config import AppConfig
from photochanger.core.db import SessionDep
from photochanger.core.storage import MediaLayout
from photochanger.core.zipstream import zip_response
from photochanger.slots import service as slots_service

router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/slots/{slot_id}/results.zip")
async def gallery_zip(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(permissions.RESULTS_READ)],
    session: SessionDep,
    include_tests: bool = False,
) -> Response:
    config: AppConfig = request.app.state.config
    entries = await slots_service.export_entries(
        session, MediaLayout(config.media_root), slot_id, start=None, end=None, include_tests=include_tests
    )
    if not entries:
        return RedirectResponse(f"/admin/slots/{slot_id}/gallery?nothing_to_download=1", status_code=303)
    return zip_response(entries, f"{slot_id}-results.zip")
