"""Look up a guest's result and decide, at request time, whether it is still available; previews and QR codes."""

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.config import AppConfig
from photochanger.core.images import run_image_work, thumbnail
from photochanger.core.links import Links
from photochanger.core.media_store import MediaStore
from photochanger.core.time import ensure_utc
from photochanger.models.job import Job
from photochanger.public.service import ResultNotFound, find_done_job

PREVIEW_LONG_SIDE = 320
# The guest page's image: sharp on a phone (about 1080 px on the long side), with a lighter variant that
# `srcset` picks on small or low-density screens. Never larger than the result itself.
VIEW_SIDES = (540, 1080)
# Caches may keep a preview or QR code this long at most, and never past the result's expiry.
MAX_CACHE_SECONDS = 7 * 24 * 3600
QR_PNG_SCALE = 8
QR_BORDER = 4
# Job ids are unguessable tokens; anything else is refused before a query is made.


@dataclass(frozen=True)
class GuestResult:
    job_id: str
    slot_id: str
    expires_at: datetime
    result_type: str | None
    has_preview: bool
    event_id: str | None = None


def extension(result_type: str | None) -> str:
    """The file extension of a result's MIME type (for the name a download or share is saved under)."""
    return {"image/png": "png", "image/webp": "webp"}.get(result_type or "", "jpg")


def guest_url(config: AppConfig, job_id: str) -> str:
    """The absolute link a QR code carries, built from `public_base_url`."""
    return config.absolute_url(Links.guest_page(job_id))


async def get_result(session: AsyncSession, job_id: str, *, now: datetime) -> GuestResult:
    """The job's result if a guest may see it at `now`.

    Raises `ResultNotFound` (404) for a malformed or unknown id or a job without a result,
    `ResultExpired` (410) once `result_expires_at` has passed or the files were cleaned up.
    """
    job = await find_done_job(session, job_id, now=now)
    return GuestResult(
        job_id=job.id,
        slot_id=job.slot_id,
        expires_at=job.result_expires_at or now,
        result_type=job.result_type,
        has_preview=job.preview_path is not None,
        event_id=job.event_id,
    )


def _read(store: MediaStore, key: str | None) -> bytes | None:
    """The stored bytes of `key`, None when absent; `ResultNotFound` for a key outside the media trees.
    Blocking: run in the image thread pool."""
    if not key:
        return None
    try:
        return store.read(key)
    except ValueError:
        raise ResultNotFound("The result's file is missing.") from None


@dataclass(frozen=True)
class GuestImage:
    data: bytes
    media_type: str
    max_age: int


def _cache_seconds(job: Job, now: datetime) -> int:
    """How long a shared cache may keep a preview or QR code, counted from `now`: never past expiry."""
    if job.result_expires_at is None:  # pragma: no cover - refused by find_done_job
        return 0
    left = int((job.result_expires_at - ensure_utc(now)).total_seconds())
    return max(0, min(MAX_CACHE_SECONDS, left))


async def preview_image(
    session: AsyncSession, store: MediaStore, job_id: str, *, now: datetime
) -> GuestImage:
    """The preview JPEG (long side 320 px) of an available result, with its cache lifetime in seconds.

    When the stored preview is missing but the result is there, one is rendered from the result in the
    image thread pool (not stored: the ingest pipeline owns writes). Raises like `get_result`, and
    `ResultNotFound` when neither file exists.
    """
    job = await find_done_job(session, job_id, now=now)
    if job.preview_path is not None:
        data = await run_image_work(_read, store, job.preview_path)
        if data is not None:
            return GuestImage(data, "image/jpeg", _cache_seconds(job, now))
    data = await run_image_work(_thumbnail_if_exists, store, job.result_path)
    if data is None:
        raise ResultNotFound("The result's file is missing.")
    return GuestImage(data, "image/jpeg", _cache_seconds(job, now))


async def view_image(
    session: AsyncSession, store: MediaStore, job_id: str, long_side: int, *, now: datetime
) -> GuestImage:
    """A JPEG of an available result whose long side is `long_side` (one of `VIEW_SIDES`; a smaller result
    is not enlarged), rendered in the image thread pool and kept in a small in-process cache.
    Raises like `get_result`, and `ResultNotFound` for another size or a missing file."""
    if long_side not in VIEW_SIDES:
        raise ResultNotFound("There is no view of that size.")
    job = await find_done_job(session, job_id, now=now)
    key = (job.id, long_side)
    data = _VIEW_CACHE.get(key)
    if data is None:
        data = await run_image_work(_thumbnail_if_exists, store, job.result_path, long_side)
        if data is None:
            raise ResultNotFound("The result's file is missing.")
        _VIEW_CACHE[key] = data
        while len(_VIEW_CACHE) > VIEW_CACHE_ENTRIES:
            _VIEW_CACHE.pop(next(iter(_VIEW_CACHE)))
    return GuestImage(data, "image/jpeg", _cache_seconds(job, now))


# Guests of one booth open the same few pages at once; 32 views of ~150 KiB stay well under 8 MiB.
VIEW_CACHE_ENTRIES = 32
_VIEW_CACHE: dict[tuple[str, int], bytes] = {}


def _thumbnail_if_exists(
    store: MediaStore, key: str | None, long_side: int = PREVIEW_LONG_SIDE
) -> bytes | None:
    data = _read(store, key)
    if data is None:
        return None
    return thumbnail(data, long_side)


def _qr(url: str) -> segno.QRCode:
    # Error level M survives a smudged print; the URL is short enough for a small symbol either way.
    return segno.make_qr(url, error="m")


def qr_svg(url: str) -> bytes:
    """An SVG QR code of `url` (black modules on white, 4-module quiet zone), sized by the viewer."""
    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="svg", border=QR_BORDER, xmldecl=True, svgns=True, omitsize=True, title=url)
    return buffer.getvalue()


def qr_png(url: str) -> bytes:
    """A PNG QR code of `url`, 8 px per module with a 4-module quiet zone. Blocking: run in a thread."""
    buffer = io.BytesIO()
    _qr(url).save(buffer, kind="png", scale=QR_PNG_SCALE, border=QR_BORDER)
    return buffer.getvalue()


async def qr_image(
    session: AsyncSession, config: AppConfig, job_id: str, kind: Literal["svg", "png"], *, now: datetime
) -> GuestImage:
    """The QR code (SVG or PNG) of the absolute guest page link of an available result."""
    job = await find_done_job(session, job_id, now=now)
    url = guest_url(config, job_id)
    if kind == "svg":
        return GuestImage(await run_image_work(qr_svg, url), "image/svg+xml", _cache_seconds(job, now))
    return GuestImage(await run_image_work(qr_png, url), "image/png", _cache_seconds(job, now))
