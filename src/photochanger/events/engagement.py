"""Engagement per event and UTC hour, counted by this server alone (no third-party tracker): shots,
processed and failed from the event's booth jobs; guest page opens, downloads and shares from counters."""

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.events.repository import EventRepository
from photochanger.events.schemas import EngagementCounts, EngagementHourRead, EngagementRead
from photochanger.events.service import get_event
from photochanger.models import JobStatus
from photochanger.stats.rollup import hour_of

logger = logging.getLogger(__name__)
_FAILED = {JobStatus.failed.value, JobStatus.timeout.value}


class Metric(StrEnum):
    page_open = "page_open"
    download = "download"
    share = "share"


_FIELD = {Metric.page_open: "page_opens", Metric.download: "downloads", Metric.share: "shares"}


async def count(session: AsyncSession, event_id: str, metric: Metric, *, now: datetime | None = None) -> None:
    """Add one guest action to the event's counter of the current hour (flushed with the session)."""
    await EventRepository(session).count(event_id, hour_of(now or utcnow()), metric.value)


async def count_now(
    sessionmaker: async_sessionmaker[AsyncSession],
    event_id: str,
    metric: Metric,
    *,
    now: datetime | None = None,
) -> bool:
    """`count` in a short transaction of its own, for routes that hold no session (downloads). Best effort:
    a guest's download never fails for its counter (the event deleted meanwhile, the database busy); False
    when nothing was counted."""
    try:
        async with sessionmaker() as session:
            await count(session, event_id, metric, now=now)
            await session.commit()
    except sa_exc.SQLAlchemyError as exc:
        logger.warning("engagement not counted: %s", type(exc).__name__, extra={"event_id": event_id})
        return False
    return True


async def report(session: AsyncSession, event_id: str) -> EngagementRead:
    """Totals and one row per hour that saw anything, oldest first. Raises `EventNotFound`."""
    event = await get_event(session, event_id)
    repo = EventRepository(session)
    hours: dict[datetime, EngagementHourRead] = {}

    def row(hour: datetime) -> EngagementHourRead:
        return hours.setdefault(hour, EngagementHourRead(hour=hour))

    async for job in repo.job_outcomes(event.id):
        entry = row(hour_of(job.created_at))
        entry.shots += 1
        entry.processed += job.status == JobStatus.done
        entry.failed += job.status in _FAILED
    for counter in await repo.counters(event.id):
        entry = row(hour_of(counter.hour))
        field = _FIELD[Metric(counter.metric)]
        setattr(entry, field, getattr(entry, field) + counter.count)
    ordered = [hours[h] for h in sorted(hours)]
    totals = EngagementCounts()
    for entry in ordered:
        for name in EngagementCounts.model_fields:
            setattr(totals, name, getattr(totals, name) + getattr(entry, name))
    return EngagementRead(totals=totals, hours=ordered)
