"""The event of a public job, and the upsert of an engagement counter."""

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.jobs.repository import JobRepository
from photochanger.models import Event, EventEngagement


class EventPageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def event_of_job(self, job_id: str) -> Event | None:
        job = await JobRepository(self.session).get(job_id)
        if job is None or job.event_id is None:
            return None
        return await self.session.get(Event, job.event_id)

    async def count(self, event_id: str, hour: datetime, metric: str) -> None:
        """Add one to a counter: an upsert, so concurrent guests never lose a count."""
        table: Any = EventEngagement.__table__
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table).values(event_id=event_id, hour=hour, metric=metric, count=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["event_id", "hour", "metric"], set_={"count": table.c.count + 1}
        )
        await self.session.execute(stmt)
