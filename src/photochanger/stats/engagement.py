"""Guest page opens and downloads per slot and UTC hour, for every slot (the events room keeps its own
per-event counters beside these). Counted by this server alone, nothing stored about the guest."""

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import utcnow
from photochanger.models import SlotEngagement
from photochanger.stats.rollup import hour_of


class GuestMetric(StrEnum):
    page_open = "page_open"
    download = "download"


async def count(
    session: AsyncSession, slot_id: str, metric: GuestMetric, *, now: datetime | None = None
) -> None:
    """Add one to the slot's counter of the current hour: an upsert, so concurrent guests never lose a
    count (flushed with the session, committed by the caller)."""
    table: Any = SlotEngagement.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(slot_id=slot_id, hour=hour_of(now or utcnow()), metric=metric.value, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["slot_id", "hour", "metric"], set_={"count": table.c.count + 1}
    )
    await session.execute(stmt)


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
