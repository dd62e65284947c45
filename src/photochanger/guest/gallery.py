"""Public slot gallery: an admin opens a slot's gallery for a limited time (default 15 minutes); while it is
open, `/g/{token}` shows the slot's recent previews to anyone holding the link. Closed or unknown → 404.

The token is a random capability; only its SHA-256 is stored (one `app_setting` row per slot, so opening
again replaces the link and a lookup scans at most 15 rows)."""

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.db import SessionDep
from photochanger.core.time import ensure_utc, utcnow
from photochanger.deps import ConfigDep
from photochanger.guest.router import render_page, time_tag
from photochanger.models import AppSetting
from photochanger.slots import branding
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotNotFound

DEFAULT_OPEN = timedelta(minutes=15)
GALLERY_SIZE = 60
KEY_PREFIX = "public_gallery:"
# Per client: at most this many gallery page views in the window (the previews have their own caching).
RATE_LIMIT = 30
RATE_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class OpenGallery:
    slot_id: str
    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        return f"/g/{self.token}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_gallery(
    session: AsyncSession,
    slot_id: str,
    *,
    actor: AuditActor,
    duration: timedelta = DEFAULT_OPEN,
    now: datetime | None = None,
) -> OpenGallery:
    """Open (or re-open with a new link) the slot's public gallery until `now + duration`. Flushes only.
    Raises `SlotNotFound`."""
    now = now or utcnow()
    if await slots_service.get_config(session, slot_id) is None:
        raise SlotNotFound(f"There is no slot {slot_id!r}.")
    token = secrets.token_urlsafe(24)
    expires_at = now + duration
    value = {"token_sha256": _digest(token), "expires_at": expires_at.isoformat()}
    row = await session.get(AppSetting, KEY_PREFIX + slot_id)
    if row is None:
        session.add(
            AppSetting(key=KEY_PREFIX + slot_id, value=value, updated_at=now, updated_by=actor.username)
        )
    else:
        row.value, row.updated_at, row.updated_by = value, now, actor.username
    await audit_service.record(
        session,
        actor,
        "gallery.open",
        f"slot:{slot_id}",
        {"until": expires_at.isoformat()},
        now=now,
    )
    await session.flush()
    return OpenGallery(slot_id, token, expires_at)


async def close_gallery(session: AsyncSession, slot_id: str, *, actor: AuditActor) -> None:
    row = await session.get(AppSetting, KEY_PREFIX + slot_id)
    if row is not None:
        await session.delete(row)
        await audit_service.record(session, actor, "gallery.close", f"slot:{slot_id}", {})
        await session.flush()


async def open_until(session: AsyncSession, slot_id: str, *, now: datetime | None = None) -> datetime | None:
    """When the slot's public gallery closes, or None when it is closed."""
    row = await session.get(AppSetting, KEY_PREFIX + slot_id)
    if row is None or not isinstance(row.value, dict):
        return None
    expires_at = ensure_utc(datetime.fromisoformat(str(row.value.get("expires_at"))))
    return expires_at if expires_at > (now or utcnow()) else None


async def find_open(
    session: AsyncSession, token: str, *, now: datetime | None = None
) -> tuple[str, datetime] | None:
    """(slot id, closing time) of the open gallery this token belongs to, else None."""
    if not 16 <= len(token) <= 64:
        return None
    digest = _digest(token)
    now = now or utcnow()
    rows = await session.execute(select(AppSetting).where(AppSetting.key.startswith(KEY_PREFIX)))
    for row in rows.scalars():
        value = row.value if isinstance(row.value, dict) else {}
        stored = str(value.get("token_sha256", ""))
        if stored and secrets.compare_digest(stored, digest):
            expires_at = ensure_utc(datetime.fromisoformat(str(value.get("expires_at"))))
            if expires_at > now:
                return row.key.removeprefix(KEY_PREFIX), expires_at
            return None
    return None


class ClientRateLimiter:
    """A sliding window per client address, in process (each worker counts its own)."""

    def __init__(self, limit: int = RATE_LIMIT, window: float = RATE_WINDOW_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, *, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle clients rather than grow without bound
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


router = APIRouter(tags=["guest"])
_limiter = ClientRateLimiter()


@router.get(
    "/g/{token}",
    response_class=HTMLResponse,
    responses={
        404: {"description": "Closed or unknown gallery (HTML page)", "content": {"text/html": {}}},
        429: {"description": "Too many views from this client", "content": {"text/html": {}}},
    },
)
async def show_public_gallery(
    token: str, request: Request, session: SessionDep, config: ConfigDep
) -> HTMLResponse:
    client = request.client.host if request.client else "unknown"
    if not _limiter.allow(client):
        page = render_page(request, "not_found.html", 429, brand=None)
        page.headers["Retry-After"] = str(int(RATE_WINDOW_SECONDS))
        return page
    found = await find_open(session, token)
    if found is None:
        return render_page(request, "not_found.html", 404, brand=None)
    slot_id, expires_at = found
    slot = await slots_service.get_slot(session, config, slot_id, limit=GALLERY_SIZE)
    results = [r for r in slot.recent_results if r.available and not r.hidden]
    brand = await branding.get(session, slot_id)
    return render_page(
        request,
        "gallery.html",
        200,
        title=brand.title or slot.display_name,
        results=results,
        until_html=time_tag(expires_at, time_only=True),
        brand=brand,
    )
