"""Queries over `booth_refusal` and failed `job` rows."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import BoothRefusal, Job, JobSource, JobStatus


async def insert_refusal(session: AsyncSession, **values: Any) -> None:
    session.add(BoothRefusal(**values))
    await session.flush()


async def prune_refusals(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(delete(BoothRefusal).where(BoothRefusal.created_at < before))


async def refusal_counts(session: AsyncSession, *, since: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(BoothRefusal.slot_id, func.count())
        .where(BoothRefusal.created_at >= since)
        .group_by(BoothRefusal.slot_id)
    )
    return {slot_id: int(count) for slot_id, count in rows.all()}


async def recent_refusals(
    session: AsyncSession, *, slot_id: str | None = None, since: datetime | None = None, limit: int
) -> Sequence[BoothRefusal]:
    query = select(BoothRefusal).order_by(BoothRefusal.created_at.desc(), BoothRefusal.id.desc()).limit(limit)
    if slot_id is not None:
        query = query.where(BoothRefusal.slot_id == slot_id)
    if since is not None:
        query = query.where(BoothRefusal.created_at >= since)
    return (await session.execute(query)).scalars().all()


async def recent_failed_jobs(session: AsyncSession, *, slot_id: str, limit: int) -> Sequence[Job]:
    """The slot's latest jobs that ended failed or timed out, booth shots and test runs alike."""
    query = (
        select(Job)
        .where(Job.slot_id == slot_id, Job.status.in_((JobStatus.failed, JobStatus.timeout)))
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def booth_jobs(session: AsyncSession, *, since: datetime, limit: int) -> Sequence[Any]:
    """Booth shots since `since`, newest first: what the Booths page groups by booth."""
    query = (
        select(Job.slot_id, Job.status, Job.failure_reason, Job.created_at, Job.booth_meta)
        .where(Job.source == JobSource.ingest, Job.created_at >= since)
        .order_by(Job.created_at.desc())
        .limit(limit)
    )
    return (await session.execute(query)).all()
