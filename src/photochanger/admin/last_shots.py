"""The slot's last booth shot as the admin uses it: what the editor's trial fieldset shows, and the photo
`use_last_shot` hands to the trial in place of an upload. A guest's original, so admins only
(`slots:write` and `slots:test`; operators, who may run tests on their own photos, never see it). What is
kept and for how long: `core.last_shots`."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import anyio
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.admin.rendering import principal_of
from photochanger.admin.uploads import discard
from photochanger.auth import permissions
from photochanger.core import images, last_shots
from photochanger.core.errors import NotFound
from photochanger.core.media_store import MediaStore
from photochanger.core.multipart import ParsedUpload
from photochanger.core.time import utcnow
from photochanger.deps import get_ingest, get_media_store
from photochanger.settings import service as settings_service

LAST_SHOT_PERMISSIONS = (permissions.SLOTS_WRITE, permissions.SLOTS_TEST)


class LastShotMissing(NotFound):
    code = "last_shot_missing"
    title = "No booth shot to try"


@dataclass(frozen=True)
class LastShotInfo:
    taken_at: datetime
    url: str


async def find(request: Request, session: AsyncSession, slot_id: str) -> last_shots.LastShot | None:
    """The slot's last shot while it is younger than the result lifetime, else None."""
    ttl = timedelta(hours=(await settings_service.load(session)).result_ttl_hours)
    store = get_media_store(request)
    return await anyio.to_thread.run_sync(lambda: last_shots.find(store, slot_id, max_age=ttl, now=utcnow()))


async def describe(request: Request, session: AsyncSession, slot_id: str) -> LastShotInfo | None:
    """What the trial fieldset shows of the slot's last booth shot, when there is one and the signed-in
    user may see it."""
    principal = principal_of(request)
    if principal is None or not all(principal.has(p) for p in LAST_SHOT_PERMISSIONS):
        return None
    shot = await find(request, session, slot_id)
    if shot is None:
        return None
    stamp = int(shot.taken_at.timestamp())
    return LastShotInfo(shot.taken_at, f"/admin/slots/{slot_id}/last-shot?t={stamp}")


def _copy(store: MediaStore, key: str, dest: Path) -> str:
    """A private copy for one trial run (a copy, not a link: a link would share the shot's old mtime, and
    cleanup removes temp files by age); returns its SHA-256. Raises `LastShotMissing` when it went meanwhile."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    source = store.open(key)
    if source is None:
        raise LastShotMissing("This slot has had no booth shot recently: upload a photo to try instead.")
    with source as src, dest.open("wb") as out:
        while chunk := src.read(1024 * 1024):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


async def swap_in(
    request: Request, session: AsyncSession, slot_id: str, parsed: ParsedUpload
) -> ParsedUpload:
    """`parsed` (the form; its empty file part discarded) with the slot's last booth shot as its photo, in a
    temp file of its own (a shot arriving meanwhile replaces the kept one, not this). Raises
    `LastShotMissing` (404)."""
    await discard(parsed.path)
    shot = await find(request, session, slot_id)
    if shot is None:
        raise LastShotMissing("This slot has had no booth shot recently: upload a photo to try instead.")
    ingest = get_ingest(request)
    temp = ingest.layout.upload_path(ingest.owner, f"admin-trial-{secrets.token_urlsafe(12)}")
    sha256 = await anyio.to_thread.run_sync(_copy, get_media_store(request), shot.key, temp)
    await anyio.to_thread.run_sync(lambda: temp.touch())  # young, so temp cleanup leaves it alone
    return ParsedUpload(
        path=temp,
        filename="last-booth-shot." + images.EXTENSION_BY_MIME.get(shot.content_type, "jpg"),
        declared_type=shot.content_type,
        size=shot.size,
        sha256=sha256,
        fields=parsed.fields,
    )
