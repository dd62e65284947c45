"""Hiding one result (a guest asked): off every guest link, the slot's and the event's public gallery and
the gallery ZIP, still shown to admins marked hidden, and shown again on request. Nothing is deleted."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.notify import RESULTS_CHANNEL, notify
from photochanger.core.time import utcnow
from photochanger.models import Job, JobStatus
from photochanger.public.service import ResultNotFound


async def set_hidden(
    session: AsyncSession, job_id: str, *, hidden: bool, actor: AuditActor, now: datetime | None = None
) -> str:
    """Hide or show the done job's stored result (flushed, not committed); returns its slot id. Raises
    `ResultNotFound` (404) for an unknown, unfinished or removed one. Hiding a hidden result (or showing a
    shown one) changes nothing and writes no audit entry."""
    now = now or utcnow()
    job = await session.get(Job, job_id)
    if job is None or job.status != JobStatus.done or job.cleaned_at is not None or job.result_path is None:
        raise ResultNotFound("No stored result has this id.")
    if (job.hidden_at is not None) == hidden:
        return job.slot_id
    job.hidden_at = now if hidden else None
    action = "result.hide" if hidden else "result.show"
    await audit_service.record(session, actor, action, f"slot:{job.slot_id}", {"job": job.id}, now=now)
    # Every process forgets its cached copy once this commits (this one is told by the caller too).
    await notify(session, RESULTS_CHANNEL, job.id)
    await session.flush()
    return job.slot_id


async def stored_file(session: AsyncSession, job_id: str, *, preview: bool) -> tuple[str, str]:
    """(relative path, content type) of a done job's stored result or preview, hidden or not, for the
    admin gallery. Raises `ResultNotFound` when there is none."""
    job = await session.get(Job, job_id)
    path = (
        None
        if job is None or job.cleaned_at is not None
        else (job.preview_path if preview else job.result_path)
    )
    if job is None or job.status != JobStatus.done or path is None:
        raise ResultNotFound("No stored result has this id.")
    return path, "image/jpeg" if preview else (job.result_type or "application/octet-stream")
