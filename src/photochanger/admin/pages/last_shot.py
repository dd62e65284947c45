"""`GET /admin/slots/{id}/last-shot` (mounted under `/admin` by `admin.router`): the slot's last booth shot,
downscaled, for the admins the trial offers it to (`admin.last_shots`); never cached."""

from typing import Annotated

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from photochanger.admin.deps import admin_requires
from photochanger.admin.last_shots import LAST_SHOT_PERMISSIONS, LastShotMissing, find
from photochanger.admin.routing import AdminRoute
from photochanger.auth.dependencies import Principal
from photochanger.auth.exceptions import PermissionDenied
from photochanger.core import images
from photochanger.core.db import SessionDep
from photochanger.deps import ConfigDep, MediaStoreDep
from photochanger.slots import service as slots_service

PREVIEW_SIDE = 320
router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


@router.get("/slots/{slot_id}/last-shot")
async def last_shot_preview(
    slot_id: str,
    request: Request,
    principal: Annotated[Principal, admin_requires(LAST_SHOT_PERMISSIONS[1])],
    session: SessionDep,
    config: ConfigDep,
    store: MediaStoreDep,
) -> Response:
    if not all(principal.has(p) for p in LAST_SHOT_PERMISSIONS):
        raise PermissionDenied("A guest's original photo is for admins only.")
    await slots_service.get_slot(session, config, slot_id, limit=0)
    shot = await find(request, session, slot_id)
    if shot is None:
        raise LastShotMissing("This slot has had no booth shot recently.")
    photo = await anyio.to_thread.run_sync(store.read, shot.key)
    if photo is None:
        raise LastShotMissing("This slot has had no booth shot recently.")
    data = await images.run_image_work(images.thumbnail, photo, PREVIEW_SIDE)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
