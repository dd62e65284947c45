"""Job status for API clients: `GET /api/jobs/{job_id}` and the 202 body of asynchronous uploads."""

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.errors import PhotoChangerError
from photochanger.models import Job, JobStatus
from photochanger.models.job import JOB_ID_PATTERN


class JobNotFound(PhotoChangerError):
    status_code = 404
    code = "job_not_found"
    title = "Job not found"


class JobAccepted(BaseModel):
    job_id: str
    status: str = "pending"
    status_url: str
    result_url: str
    guest_url: str


class JobRead(BaseModel):
    """What anyone holding the job id may see; the slot (booth layout) is not theirs to learn."""

    job_id: str
    status: str
    mode: str
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    result_url: str | None
    guest_url: str | None
    preview_url: str | None
    result_expires_at: datetime | None
    expired: bool
    # Slots with a fallback chain: the link that produced the result (0: the primary), its provider, and
    # what became of every link (outcome, reason, time taken).
    result_link: int | None = None
    result_provider: str | None = None
    attempts: list[dict[str, Any]] | None = None


class _Links(Protocol):
    def result_url(self, job_id: str) -> str: ...
    def guest_url(self, job_id: str) -> str: ...


async def get_job(session: AsyncSession, job_id: str) -> Job:
    job = await session.get(Job, job_id) if JOB_ID_PATTERN.match(job_id) else None
    if job is None:
        raise JobNotFound("No job has this id.")
    return job


def job_read(job: Job, links: _Links, *, now: datetime) -> JobRead:
    done = job.status == JobStatus.done
    expired = done and not job.result_available(now)
    available = done and not expired
    return JobRead(
        job_id=job.id,
        status=job.status,
        mode=job.mode,
        failure_reason=job.failure_reason,
        created_at=job.created_at,
        finished_at=job.finished_at,
        duration_ms=job.duration_ms,
        result_url=links.result_url(job.id) if available else None,
        guest_url=links.guest_url(job.id) if available else None,
        preview_url=links.result_url(job.id) + "/preview" if available else None,
        result_expires_at=job.result_expires_at,
        expired=expired,
        result_link=job.result_link,
        result_provider=job.result_provider,
        attempts=job.attempts,
    )
