"""The guest-side engagement counters of an event per UTC hour (page opens, downloads, shares), counted by
this server alone where guests are served: the result page, the download, the event gallery.
`events.engagement` reports them."""

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import hour_of, utcnow
from photochanger.eventpage.repository import EventPageRepository

logger = logging.getLogger(__name__)


class Metric(StrEnum):
    page_open = "page_open"
    download = "download"
    share = "share"


async def count(session: AsyncSession, event_id: str, metric: Metric, *, now: datetime | None = None) -> None:
    """Add one guest action to the event's counter of the current hour (flushed with the session)."""
    await EventPageRepository(session).count(event_id, hour_of(now or utcnow()), metric.value)


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


async def count_download(
    sessionmaker: async_sessionmaker[AsyncSession], event_id: str | None, now: datetime | None = None
) -> None:
    """Count a guest download of an event photo (the download route holds no session of its own)."""
    if event_id is not None:
        await count_now(sessionmaker, event_id, Metric.download, now=now)
