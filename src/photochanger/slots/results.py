"""Removing one result before its time (a guest asked for it): the job is marked cleaned, so every link to
it answers 410 at once, and its files are handed back for deletion after the commit."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.time import utcnow
from photochanger.models import Job, JobStatus
from photochanger.public.service import ResultNotFound


async def remove_result(
    session: AsyncSession, job_id: str, *, actor: AuditActor, now: datetime | None = None
) -> tuple[str, list[str]]:
    """Mark the done job's result removed (flushed, not committed); returns its slot id and the relative
    paths of its files. Raises `ResultNotFound` (404) for an unknown, unfinished or already removed one."""
    now = now or utcnow()
    job = await session.get(Job, job_id)
    if job is None or job.status != JobStatus.done or job.cleaned_at is not None or job.result_path is None:
        raise ResultNotFound("No stored result has this id.")
    paths = [p for p in (job.result_path, job.preview_path) if p]
    job.cleaned_at = now
    await audit_service.record(
        session, actor, "result.delete", f"slot:{job.slot_id}", {"job": job.id}, now=now
    )
    await session.flush()
    return job.slot_id, paths
