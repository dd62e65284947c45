"""Decide whether a result can be downloaded now: expiry is decided at request time, not by cleanup."""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.errors import PhotoChangerError
from photochanger.core.storage import MediaLayout
from photochanger.core.time import ensure_utc, utcnow
from photochanger.jobs.repository import JobRepository
from photochanger.models import Job, JobStatus
from photochanger.models.job import JOB_ID_PATTERN


class ResultNotFound(PhotoChangerError):
    status_code = 404
    code = "result_not_found"
    title = "Result not found"


class ResultExpired(PhotoChangerError):
    status_code = 410
    code = "result_expired"
    title = "Result expired"


@dataclass(frozen=True)
class ResultRef:
    """What a download needs to know about a finished job; immutable until the job expires."""

    job_id: str
    relpath: str
    content_type: str
    expires_at: datetime
    event_id: str | None = None


class ResultCache:
    """Recently downloaded results, so a QR-code rush does not hit the database for every request.

    Safe because a done job's file, type and expiry never change before it expires, and cleanup only
    removes expired results: expiry is still decided on every request from the cached `expires_at`.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._items: OrderedDict[str, ResultRef] = OrderedDict()

    def get(self, job_id: str) -> ResultRef | None:
        ref = self._items.get(job_id)
        if ref is not None:
            self._items.move_to_end(job_id)
        return ref

    def discard(self, job_id: str) -> None:
        """Forget a result removed before its time (in this process; other workers' copies find the file
        gone and answer 410)."""
        self._items.pop(job_id, None)

    def put(self, ref: ResultRef) -> None:
        self._items[ref.job_id] = ref
        self._items.move_to_end(ref.job_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


async def find_result(
    sessionmaker: async_sessionmaker[AsyncSession],
    cache: ResultCache,
    job_id: str,
    *,
    now: datetime | None = None,
) -> ResultRef:
    """The downloadable result for `job_id` (404 unknown or malformed, 410 expired), from the cache when
    it can; a database session is opened only on a miss."""
    moment = now or utcnow()
    ref = cache.get(job_id) if JOB_ID_PATTERN.match(job_id) else None
    if ref is None:
        async with sessionmaker() as session:
            job = await find_done_job(session, job_id, now=moment)
        assert job.result_path is not None  # noqa: S101 - checked by find_done_job
        assert job.result_expires_at is not None  # noqa: S101
        ref = ResultRef(
            job.id,
            job.result_path,
            job.result_type or "application/octet-stream",
            job.result_expires_at,
            job.event_id,
        )
        cache.put(ref)
    elif ensure_utc(moment) > ref.expires_at:
        raise ResultExpired("This photo is no longer available: its time is over.")
    return ref


@dataclass(frozen=True)
class Downloadable:
    job_id: str
    relpath: str
    path: Path
    content_type: str
    size: int
    expires_at: datetime


async def find_done_job(session: AsyncSession, job_id: str, *, now: datetime | None = None) -> Job:
    """The finished, unexpired job for `job_id`; 404 for unknown or malformed ids, 410 once expired."""
    if not JOB_ID_PATTERN.match(job_id):
        raise ResultNotFound("No result has this id.")
    job = await JobRepository(session).get(job_id)
    if (
        job is None
        or job.status != JobStatus.done
        or job.result_path is None
        or job.result_expires_at is None
    ):
        raise ResultNotFound("No result has this id.")
    if is_expired(job, now or utcnow()):
        raise ResultExpired("This photo is no longer available: its time is over.")
    return job


def is_expired(job: Job, now: datetime) -> bool:
    """A stored result that is no longer available (`Job.result_available`)."""
    return not job.result_available(now)


async def downloadable(
    session: AsyncSession, layout: MediaLayout, job_id: str, *, now: datetime | None = None
) -> Downloadable:
    job = await find_done_job(session, job_id, now=now)
    assert job.result_path is not None  # noqa: S101 - checked by find_done_job
    assert job.result_expires_at is not None  # noqa: S101
    path = layout.resolve(job.result_path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ResultExpired("This photo is no longer available.") from None
    return Downloadable(
        job.id,
        job.result_path,
        path,
        job.result_type or "application/octet-stream",
        size,
        job.result_expires_at,
    )
