"""`JobRepository`: the queries on `job` that public downloads, guest pages, events and cleanup share."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, or_, select, tuple_, update

from photochanger.core.repository import Repository
from photochanger.models import Event, EventPhoto, Job

# Rows of id, result_expires_at, result_path, preview_path and the event original path.
ExpiredRow = Row[str, datetime | None, str | None, str | None, str | None]
# Rows of id, result_path, preview_path and result_expires_at.
AvailableRow = Row[str, str | None, str | None, datetime | None]


class JobRepository(Repository[Job]):
    model = Job

    async def expired_page(
        self, now: datetime, *, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[ExpiredRow]:
        """Uncleaned jobs whose result expired before `now` and whose event (if any) no longer retains them,
        by (expiry, id) after `after`: id, result_expires_at, result_path, preview_path, original_path."""
        retained = select(Event.id).where(Event.retain_until >= now)
        query = (
            select(Job.id, Job.result_expires_at, Job.result_path, Job.preview_path, EventPhoto.original_path)
            .outerjoin(EventPhoto, EventPhoto.job_id == Job.id)
            .where(
                Job.cleaned_at.is_(None),
                Job.result_expires_at < now,
                or_(Job.event_id.is_(None), Job.event_id.not_in(retained)),
            )
            .order_by(Job.result_expires_at, Job.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(Job.result_expires_at, Job.id) > tuple_(*after))
        return (await self.session.execute(query)).all()

    async def available_page(
        self, now: datetime, *, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[AvailableRow]:
        """Jobs with a result still available at `now`, by (expiry, id) after `after`: id, result_path,
        preview_path, result_expires_at. Walks `ix_job_uncleaned_expiry` on both databases."""
        query = (
            select(Job.id, Job.result_path, Job.preview_path, Job.result_expires_at)
            .where(Job.result_available_at(now), Job.result_path.is_not(None))
            .order_by(Job.result_expires_at, Job.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(Job.result_expires_at, Job.id) > tuple_(*after))
        return (await self.session.execute(query)).all()

    async def mark_cleaned(self, job_ids: Sequence[str], now: datetime) -> None:
        """Mark results removed (a job already marked keeps its first time)."""
        await self.session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.cleaned_at.is_(None))
            .values(cleaned_at=now)
            .execution_options(synchronize_session=False)
        )

    async def withdraw(self, job_id: str, *, cleaned_at: datetime, expires_at: datetime) -> None:
        """End a result now: marked cleaned, its expiry moved to `expires_at`."""
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(cleaned_at=cleaned_at, result_expires_at=expires_at)
            .execution_options(synchronize_session=False)
        )
