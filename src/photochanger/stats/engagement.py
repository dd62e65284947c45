"""Guest page opens and downloads per slot and UTC hour, for every slot (the events room keeps its own
per-event counters beside these). Counted by this server alone, nothing stored about the guest.

A QR-code rush must not pay a database write per download: each process adds to `GuestCounts` in memory
and writes the sums every `FLUSH_SECONDS` (and at shutdown) in one short transaction. A process killed
outright loses at most its last few seconds of counts."""

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.tasks import cancel_and_wait
from photochanger.core.time import hour_of, utcnow
from photochanger.models import SlotEngagement

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 5.0


class GuestMetric(StrEnum):
    page_open = "page_open"
    download = "download"


async def add_counts(session: AsyncSession, counts: "Counter[tuple[str, datetime, str]]") -> None:
    """Add each (slot id, hour, metric) count to its row: upserts, so every process's sums add up."""
    table: Any = SlotEngagement.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for (slot_id, hour, metric), n in sorted(counts.items()):
        stmt = insert(table).values(slot_id=slot_id, hour=hour, metric=metric, count=n)
        stmt = stmt.on_conflict_do_update(
            index_elements=["slot_id", "hour", "metric"], set_={"count": table.c.count + n}
        )
        await session.execute(stmt)


class GuestCounts:
    """This process's guest actions not yet written; `start` flushes them every `seconds`."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, seconds: float = FLUSH_SECONDS
    ) -> None:
        self.sessionmaker = sessionmaker
        self.seconds = seconds
        self._pending: Counter[tuple[str, datetime, str]] = Counter()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def add(self, slot_id: str, metric: GuestMetric, *, now: datetime | None = None) -> None:
        self._pending[(slot_id, hour_of(now or utcnow()), metric.value)] += 1

    async def flush(self) -> int:
        """Write the pending counts; returns how many actions were written. On a database error they stay
        pending for the next flush (a deleted slot's counts are dropped by its foreign key, once)."""
        async with self._lock:
            pending, self._pending = self._pending, Counter()
            if not pending:
                return 0
            try:
                async with self.sessionmaker() as session:
                    await add_counts(session, pending)
                    await session.commit()
            except sa_exc.IntegrityError:
                logger.warning("guest counts of a deleted slot dropped")
                return 0
            except sa_exc.SQLAlchemyError as exc:
                logger.warning("guest counts not written yet: %s", type(exc).__name__)
                self._pending.update(pending)
                return 0
            return sum(pending.values())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            await self.flush()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="guest-counts")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self.flush()


async def totals(
    session: AsyncSession, *, since: datetime, slot_ids: Sequence[str] | None = None
) -> dict[str, dict[str, int]]:
    """slot id -> metric -> guest actions counted in hours starting at or after `since`'s hour."""
    query = (
        select(SlotEngagement.slot_id, SlotEngagement.metric, func.sum(SlotEngagement.count))
        .where(SlotEngagement.hour >= hour_of(since))
        .group_by(SlotEngagement.slot_id, SlotEngagement.metric)
    )
    if slot_ids is not None:
        query = query.where(SlotEngagement.slot_id.in_(slot_ids))
    out: dict[str, dict[str, int]] = {}
    for slot_id, metric, total in await session.execute(query):
        out.setdefault(slot_id, {m.value: 0 for m in GuestMetric})[metric] = int(total or 0)
    return out
