"""Job rows: each write is its own short transaction, so no connection is held while a provider runs. The
statements that end a job are built here and run by `ingest.ending` (which adds the stats rollups)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from photochanger.core.notify import JOBS_CHANNEL, notify
from photochanger.models import EventPhoto, EventSlot, Job, JobStatus


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


def finishing(job_id: str, returning: Sequence[Any], **values: Any) -> ReturningUpdate[Any]:
    """The UPDATE moving a pending job to its terminal state, returning `returning` of it (nothing when it
    was no longer pending)."""
    return (
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.pending)
        .values(**values)
        .returning(*returning)
    )


def interrupting(owner: str, returning: Sequence[Any], *, now: datetime) -> ReturningUpdate[Any]:
    """The UPDATE ending every job `owner` still has pending as `interrupted` (graceful shutdown)."""
    return (
        update(Job)
        .where(Job.status == JobStatus.pending, Job.owner == owner)
        .values(
            status=JobStatus.failed,
            failure_reason="interrupted",
            finished_at=now,
            input_path=None,
            idempotency_key=None,
        )
        .returning(*returning)
    )


def on_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def rows_of(session: AsyncSession, statement: Executable) -> Sequence[Row[Any]]:
    return (await session.execute(statement)).all()


async def one_of(session: AsyncSession, statement: Executable) -> tuple[Any, ...]:
    return tuple((await session.execute(statement)).one())


async def add_event_photo(session: AsyncSession, job_id: str, event_id: str, relpath: str, size: int) -> None:
    session.add(EventPhoto(job_id=job_id, event_id=event_id, original_path=relpath, original_size=size))
    await session.flush()


async def notify_finished(session: AsyncSession, slot_ids: set[str]) -> None:
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
