"""The slot's last booth shot for the editor's trial run (mounted under `/admin` by `admin.router`):
`GET /admin/slots/{id}/last-shot` shows it, and `use_last_shot` hands it to the trial in place of an
uploaded photo. A guest's original: admins only (`slots:write` and `slots:test`; operators, who may run
tests on their own photos, never see it). What is kept and for how long: `core.last_shots`."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.admin.rendering import principal_of
from photochanger.admin.router import AdminDep, AdminRoute, need
from photochanger.admin.uploads import discard
from photochanger.auth import permissions
from photochanger.config import AppConfig
from photochanger.core import images, last_shots
from photochanger.core.db import SessionDep
from photochanger.core.errors import NotFound
from photochanger.core.time import utcnow
from photochanger.ingest.multipart import ParsedUpload
from photochanger.ingest.service import IngestService
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots_service

PREVIEW_SIDE = 320
LAST_SHOT_PERMISSIONS = (permissions.SLOTS_WRITE, permissions.SLOTS_TEST)
router: APIRouter = APIRouter(route_class=AdminRoute, include_in_schema=False)


class LastShotMissing(NotFound):
    code = "last_shot_missing"
    title = "No booth shot to try"


@dataclass(frozen=True)
class LastShotInfo:
    taken_at: datetime
    url: str


async def _find(request: Request, session: AsyncSession, slot_id: str) -> last_shots.LastShot | None:
    config: AppConfig = request.app.state.config
    ttl = timedelta(hours=(await settings_service.load(session)).result_ttl_hours)
    root = config.media_root
    return await anyio.to_thread.run_sync(lambda: last_shots.find(root, slot_id, max_age=ttl, now=utcnow()))


async def describe(request: Request, session: AsyncSession, slot_id: str) -> LastShotInfo | None:
    """What the trial fieldset shows of the slot's last booth shot, when there is one and the signed-in
    user may see it."""
    principal = principal_of(request)
    if principal is None or not all(principal.has(p) for p in LAST_SHOT_PERMISSIONS):
        return None
    shot = await _find(request, session, slot_id)
    if shot is None:
        return None
    stamp = int(shot.taken_at.timestamp())
    return LastShotInfo(shot.taken_at, f"/admin/slots/{slot_id}/last-shot?t={stamp}")


async def swap_in(
    request: Request, session: AsyncSession, slot_id: str, parsed: ParsedUpload
) -> ParsedUpload:
    """`parsed` (the form, its empty file part discarded) with the slot's last booth shot as its photo, in a
    temp file of its own (a shot arriving meanwhile replaces the kept one, not this). Raises
    `LastShotMissing` (404)."""
    await discard(parsed.path)
    shot = await _find(request, session, slot_id)
    if shot is None:
        raise LastShotMissing("This slot has had no booth shot recently: upload a photo to try instead.")
    ingest: IngestService = request.app.state.ingest
    temp = ingest.layout.upload_path(ingest.owner, f"admin-trial-{secrets.token_urlsafe(12)}")
    await anyio.to_thread.run_sync(last_shots.keep_copy, shot.path, temp)
    return ParsedUpload(
        path=temp,
        filename="last-booth-shot." + images.EXTENSION_BY_MIME.get(shot.content_type, "jpg"),
        declared_type=shot.content_type,
        size=shot.size,
        sha256="",
        fields=parsed.fields,
    )


@router.get("/slots/{slot_id}/last-shot")
async def last_shot_preview(
    slot_id: str, request: Request, principal: AdminDep, session: SessionDep
) -> Response:
    for permission in LAST_SHOT_PERMISSIONS:
        need(principal, permission)
    config: AppConfig = request.app.state.config
    await slots_service.get_slot(session, config, slot_id, limit=0)
    shot = await _find(request, session, slot_id)
    if shot is None:
        raise LastShotMissing("This slot has had no booth shot recently.")
    data = await images.run_image_work(images.thumbnail, shot.path, PREVIEW_SIDE)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
