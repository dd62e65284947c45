"""An event's photos: the paged gallery (private, or public without hidden ones), hide and delete, the files
behind them, disk usage, and what the ZIP and CSV exports read.

An event photo is a done job of the event whose files cleanup has not removed; it stays visible here after
its guest link expired, until the event's retention runs out."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.images import EXTENSION_BY_MIME
from photochanger.core.media_store import MediaStore
from photochanger.core.time import utcnow
from photochanger.core.zipstream import ZipEntry
from photochanger.events.exceptions import EventPhotoNotFound
from photochanger.events.repository import EventRepository
from photochanger.events.schemas import EventPhotoPage, EventPhotoRead, EventUsageRead, TreeUsageRead
from photochanger.events.service import get_event
from photochanger.jobs.repository import JobRepository
from photochanger.models import Event, EventPhoto
from photochanger.models.job import result_available

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class PhotoFile:
    job_id: str
    key: str
    content_type: str
    filename: str


def _live(event: Event, now: datetime) -> bool:
    """Whether the event still keeps its photos (retention not over)."""
    return now <= event.retain_until


def photo_read(row: Row[Any], *, base: str, now: datetime) -> EventPhotoRead:
    return EventPhotoRead(
        job_id=row.id,
        slot_id=row.slot_id,
        created_at=row.created_at,
        guest_available=result_available(row.result_expires_at, now),
        hidden=row.hidden_at is not None,
        has_original=row.original_path is not None,
        preview_url=f"{base}/{row.id}/preview",
        download_url=f"{base}/{row.id}",
    )


async def photo_page(
    session: AsyncSession,
    event: Event,
    *,
    public: bool,
    base: str,
    page: int,
    per_page: int,
    now: datetime | None = None,
) -> EventPhotoPage:
    """Newest first; `public` leaves hidden photos out. `base` is the URL prefix of the photo links."""
    now = now or utcnow()
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    if not _live(event, now):
        return EventPhotoPage(items=[], total=0, page=page, per_page=per_page)
    rows, total = await EventRepository(session).photo_page(
        event.id, public=public, limit=per_page, offset=(page - 1) * per_page
    )
    items = [photo_read(row, base=base, now=now) for row in rows]
    return EventPhotoPage(items=items, total=total, page=page, per_page=per_page)


async def _photo(
    session: AsyncSession, event: Event, job_id: str, *, public: bool, now: datetime
) -> Row[Any]:
    row = None
    if _live(event, now):
        row = await EventRepository(session).photo(event.id, job_id, public=public)
    if row is None:
        raise EventPhotoNotFound(f"This event has no photo {job_id!r}.")
    return row


async def photo_file(
    session: AsyncSession,
    store: MediaStore,
    event: Event,
    job_id: str,
    *,
    kind: str,
    public: bool,
    now: datetime | None = None,
) -> PhotoFile:
    """The result (`kind="result"`), preview or original of an event photo. Raises `EventPhotoNotFound`
    for a photo of another event, a hidden one in public, or a file that is gone."""
    row = await _photo(session, event, job_id, public=public, now=now or utcnow())
    if kind == "preview" and row.preview_path is not None:
        relpath, content_type = row.preview_path, "image/jpeg"
    elif kind == "original" and row.original_path is not None:
        relpath, content_type = row.original_path, _type_of(row.original_path)
    elif kind == "result":
        relpath, content_type = row.result_path, row.result_type or "application/octet-stream"
    else:
        raise EventPhotoNotFound(f"Photo {job_id!r} has no {kind}.")
    if not await anyio.to_thread.run_sync(store.exists, relpath):
        raise EventPhotoNotFound(f"The file of photo {job_id!r} is gone.")
    ext = relpath.rsplit(".", 1)[-1]
    return PhotoFile(job_id, relpath, content_type, f"photo-{job_id[:8]}.{ext}")


def _type_of(relpath: str) -> str:
    ext = relpath.rsplit(".", 1)[-1]
    return next((mime for mime, e in EXTENSION_BY_MIME.items() if e == ext), "application/octet-stream")


async def set_hidden(
    session: AsyncSession, event_id: str, job_id: str, *, hidden: bool, actor: AuditActor
) -> None:
    """Hide a photo from the public gallery (it stays in the admin gallery and the export), or show it."""
    now = utcnow()
    event = await get_event(session, event_id)
    await _photo(session, event, job_id, public=False, now=now)
    state = await EventRepository(session).photo_state(job_id)
    if state is None:
        state = EventPhoto(job_id=job_id, event_id=event.id)
        session.add(state)
    state.hidden_at = now if hidden else None
    action = "event.photo_hide" if hidden else "event.photo_show"
    await audit_service.record(session, actor, action, f"event:{event.id}", {"job_id": job_id}, now=now)
    await session.flush()


async def delete_photo(session: AsyncSession, event_id: str, job_id: str, *, actor: AuditActor) -> list[str]:
    """Remove a photo for good: its guest link answers 410 at once and it leaves the gallery and exports.
    The job is marked cleaned (so cleanup leaves it alone); its keys are returned for the caller to delete
    from the media store once this is committed."""
    now = utcnow()
    event = await get_event(session, event_id)
    row = await _photo(session, event, job_id, public=False, now=now)
    expires = row.result_expires_at if row.result_expires_at and row.result_expires_at < now else now
    await JobRepository(session).withdraw(job_id, cleaned_at=now, expires_at=expires)
    await audit_service.record(
        session, actor, "event.photo_delete", f"event:{event.id}", {"job_id": job_id}, now=now
    )
    await session.flush()
    return [p for p in (row.result_path, row.preview_path, row.original_path) if p is not None]


def _sizes(store: MediaStore, keys: list[tuple[str, str]]) -> dict[str, TreeUsageRead]:
    usage = {kind: TreeUsageRead(files=0, bytes=0) for kind in ("results", "previews", "originals")}
    for kind, key in keys:
        try:
            found = store.stat(key)
        except ValueError:  # outside the media trees: not the event's to count
            continue
        if found is None:
            continue
        usage[kind].files += 1
        usage[kind].bytes += found.size
    return usage


async def usage(session: AsyncSession, store: MediaStore, event_id: str) -> EventUsageRead:
    """Bytes stored for the event's photos (results, previews, originals), measured on the objects."""
    now = utcnow()
    event = await get_event(session, event_id)
    paths: list[tuple[str, str]] = []
    photos = live = 0
    async for row in EventRepository(session).stream_photos(event.id):
        photos += 1
        live += result_available(row.result_expires_at, now)
        for kind, rel in (
            ("results", row.result_path),
            ("previews", row.preview_path),
            ("originals", row.original_path),
        ):
            if rel is not None:
                paths.append((kind, rel))
    sizes = await anyio.to_thread.run_sync(_sizes, store, paths)
    return EventUsageRead(
        **sizes,
        bytes=sum(u.bytes for u in sizes.values()),
        photos=photos,
        guest_links_live=live,
    )


async def export_entries(session: AsyncSession, event_id: str, *, originals: bool) -> list[ZipEntry]:
    """ZIP entries of every photo the event keeps, oldest first, `<slot>/<time>-<job>.<ext>`, plus
    `originals/<slot>/…` when asked. Raises `EventNotFound`."""
    now = utcnow()
    event = await get_event(session, event_id)
    entries: list[ZipEntry] = []
    if not _live(event, now):
        return entries
    async for row in EventRepository(session).stream_photos(event.id):
        stem = f"{row.created_at:%Y%m%d-%H%M%S}-{row.id}"
        ext = EXTENSION_BY_MIME.get(row.result_type or "", row.result_path.rsplit(".", 1)[-1])
        entries.append(ZipEntry(f"{row.slot_id}/{stem}.{ext}", row.result_path, row.created_at))
        if originals and row.original_path is not None:
            name = f"originals/{row.slot_id}/{stem}.{row.original_path.rsplit('.', 1)[-1]}"
            entries.append(ZipEntry(name, row.original_path, row.created_at))
    return entries


CSV_HEADER = (
    "job_id",
    "slot_id",
    "status",
    "failure_reason",
    "provider",
    "created_at",
    "finished_at",
    "duration_ms",
    "guest_link_expires_at",
    "removed_at",
    "hidden",
    "has_original",
)


def stream_jobs(session: AsyncSession, event_id: str) -> AsyncIterator[Any]:
    """The event's jobs for the CSV export, streamed from the database (rows for `csv_row`)."""
    return EventRepository(session).stream_jobs(event_id)


def csv_row(row: Row[Any]) -> list[str]:
    def when(value: datetime | None) -> str:
        return value.isoformat() if value is not None else ""

    return [
        row.id,
        row.slot_id,
        row.status,
        row.failure_reason or "",
        row.provider,
        when(row.created_at),
        when(row.finished_at),
        "" if row.duration_ms is None else str(row.duration_ms),
        when(row.result_expires_at),
        when(row.cleaned_at),
        "yes" if row.hidden_at is not None else "no",
        "yes" if row.original_path is not None else "no",
    ]
