"""Job rows: each write is its own short transaction, so no connection is held while a provider runs."""

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.notify import JOBS_CHANNEL, notify
from photochanger.models import EventPhoto, EventSlot, Job, JobStatus
from photochanger.stats import rollup

# What the stats rollup needs of a job leaving `pending` (the fields of `rollup.FinishedJob`, in order).
_FINISHED = (
    Job.slot_id,
    Job.source,
    Job.provider,
    Job.status,
    Job.failure_reason,
    Job.created_at,
    Job.duration_ms,
)


async def insert_pending(
    session: AsyncSession, *, with_event: bool = False, **values: Any
) -> EventSlot | None:
    """Insert the pending job; with `with_event`, it records the open event its slot belongs to, whose
    assignment (event id, whether it keeps originals) is returned."""
    assignment = None
    if with_event:
        found = await session.execute(
            select(EventSlot).where(EventSlot.slot_id == values["slot_id"], EventSlot.open.is_(True))
        )
        assignment = found.scalar_one_or_none()
    event_id = assignment.event_id if assignment is not None else None
    session.add(Job(status=JobStatus.pending, event_id=event_id, **values))
    await session.flush()
    return assignment


async def finish(
    session: AsyncSession, job_id: str, *, original: tuple[str, str, int] | None = None, **values: Any
) -> bool:
    """Move a pending job to its terminal state, counted in the rollups in the same transaction; False when
    it was no longer pending. On PostgreSQL the move and the rollups are one statement (one round trip).
    `original` is the (event id, relative path, size) of the original shot kept for the job's event."""
    moving = (
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.pending)
        .values(**values)
        .returning(*_FINISHED)
    )
    if session.get_bind().dialect.name == "postgresql":
        count, slot_id = (await session.execute(rollup.moved_and_recorded(moving))).one()
        slots = {slot_id} if count else set()
    else:
        moved = (await session.execute(moving)).all()
        await rollup.record_finished(session, (rollup.FinishedJob(*row) for row in moved))
        slots = {row[0] for row in moved}
    if slots and original is not None:
        event_id, relpath, size = original
        session.add(EventPhoto(job_id=job_id, event_id=event_id, original_path=relpath, original_size=size))
        await session.flush()
    await _notify_finished(session, slots)
    return bool(slots)


async def _notify_finished(session: AsyncSession, slot_ids: set[str]) -> None:
    """Live dashboards of every process wake when the transaction that ended these slots' jobs commits."""
    for slot_id in sorted(slot_ids):
        await notify(session, JOBS_CHANNEL, slot_id)


async def get(session: AsyncSession, job_id: str) -> Job | None:
    return await session.get(Job, job_id)


async def pending_owned_by_others(
    session: AsyncSession, *, live_owners: set[str], created_before: datetime
) -> list[Job]:
    rows = await session.execute(select(Job).where(Job.status == JobStatus.pending))
    return [job for job in rows.scalars() if job.owner not in live_owners or job.created_at < created_before]


async def by_key(session: AsyncSession, slot_id: str, key: str) -> Job | None:
    row = await session.execute(select(Job).where(Job.slot_id == slot_id, Job.idempotency_key == key))
    job = row.scalar_one_or_none()
    if job is not None:
        session.expunge(job)
    return job


async def release_key(session: AsyncSession, job_id: str) -> None:
    await session.execute(update(Job).where(Job.id == job_id).values(idempotency_key=None))


async def get_detached(session: AsyncSession, job_id: str) -> Job | None:
    job = await session.get(Job, job_id, populate_existing=True)
    if job is not None:
        session.expunge(job)
    return job


async def interrupt_owned(session: AsyncSession, owner: str, *, now: datetime) -> int:
    """End every job this process still has pending (graceful shutdown)."""
    result = await session.execute(
        update(Job)
        .where(Job.status == JobStatus.pending, Job.owner == owner)
        .values(
            status=JobStatus.failed,
            failure_reason="interrupted",
            finished_at=now,
            input_path=None,
            idempotency_key=None,
        )
        .returning(*_FINISHED)
    )
    moved = [rollup.FinishedJob(*row) for row in result.all()]
    await rollup.record_finished(session, moved)
    await _notify_finished(session, {job.slot_id for job in moved})
    return len(moved)
