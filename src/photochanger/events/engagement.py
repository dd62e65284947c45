"""The engagement report per event and UTC hour, counted by this server alone (no third-party tracker): shots,
processed and failed from the event's booth jobs; guest page opens, downloads and shares from the counters
`eventpage.engagement` writes."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import hour_of
from photochanger.eventpage.engagement import Metric
from photochanger.events.repository import EventRepository
from photochanger.events.schemas import EngagementCounts, EngagementHourRead, EngagementRead
from photochanger.events.service import get_event
from photochanger.models import JobStatus

_FAILED = {JobStatus.failed.value, JobStatus.timeout.value}
_FIELD = {Metric.page_open: "page_opens", Metric.download: "downloads", Metric.share: "shares"}


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
