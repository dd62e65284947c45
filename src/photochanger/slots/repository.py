"""Queries over slot, and over the job rows a slot's admin views need."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import Job, JobSource, JobStatus, Slot


class SlotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, slot_id: str) -> Slot | None:
        return await self.session.get(Slot, slot_id)

    async def list(self) -> Sequence[Slot]:
        return (await self.session.execute(select(Slot).order_by(Slot.id))).scalars().all()

    async def update_versioned(self, slot_id: str, version: int, values: dict[str, Any]) -> bool:
        """`UPDATE slot ... WHERE id = :id AND version = :version`, bumping the version; False when the row
        moved on (or is gone) in the meantime."""
        result = await self.session.execute(
            update(Slot)
            .where(Slot.id == slot_id, Slot.version == version)
            .values(**values, version=Slot.version + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def outcome_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        """slot id -> job status -> count of booth jobs created since `since`."""
        rows = await self.session.execute(
            select(Job.slot_id, Job.status, func.count())
            .where(Job.created_at >= since, Job.source == JobSource.ingest)
            .group_by(Job.slot_id, Job.status)
        )
        out: dict[str, dict[str, int]] = {}
        for slot_id, status, count in rows:
            out.setdefault(slot_id, {})[status] = int(count)
        return out

    async def recent_done(self, slot_id: str, limit: int) -> Sequence[Job]:
        rows = await self.session.execute(
            select(Job)
            .where(Job.slot_id == slot_id, Job.status == JobStatus.done)
            .order_by(Job.created_at.desc(), Job.id)
            .limit(limit)
        )
        return rows.scalars().all()

    async def latest_done(self) -> Sequence[Job]:
        """The newest done job of every slot that has one, in one query (a correlated subquery per slot row,
        served by the `(slot_id, created_at)` index), for a page that shows each slot's last result."""
        newest = (
            select(Job.id)
            .where(Job.slot_id == Slot.id, Job.status == JobStatus.done)
            .order_by(Job.created_at.desc(), Job.id)
            .limit(1)
            .correlate(Slot)
            .scalar_subquery()
        )
        rows = await self.session.execute(select(Job).join(Slot, Job.id == newest))
        return rows.scalars().all()

    async def downloadable(
        self,
        slot_id: str,
        *,
        now: datetime,
        start: datetime | None,
        end: datetime | None,
        include_tests: bool,
    ) -> Sequence[tuple[str, str, str | None, datetime]]:
        """(job id, result path, result type, created_at) of the slot's unexpired done results, oldest first."""
        query = select(Job.id, Job.result_path, Job.result_type, Job.created_at).where(
            Job.slot_id == slot_id,
            Job.status == JobStatus.done,
            Job.result_path.is_not(None),
            Job.result_available_at(now),
        )
        if not include_tests:
            query = query.where(Job.source == JobSource.ingest)
        if start is not None:
            query = query.where(Job.created_at >= start)
        if end is not None:
            query = query.where(Job.created_at < end)
        rows = await self.session.execute(query.order_by(Job.created_at, Job.id))
        return [(job_id, str(path), rtype, created) for job_id, path, rtype, created in rows]
