"""Event rows, their slots, per-photo state and engagement counters."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import Event, EventEngagement, EventPhoto, EventSlot, Job, JobSource, JobStatus

# What the gallery, the export and the CSV read of an event's job, joined with its per-photo state.
PHOTO_COLUMNS = (
    Job.id,
    Job.slot_id,
    Job.created_at,
    Job.result_path,
    Job.result_type,
    Job.result_size,
    Job.result_expires_at,
    Job.preview_path,
    EventPhoto.hidden_at,
    EventPhoto.original_path,
)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, event_id: str) -> Event | None:
        return await self.session.get(Event, event_id)

    async def by_gallery_token(self, token: str) -> Event | None:
        row = await self.session.execute(select(Event).where(Event.gallery_token == token))
        return row.scalar_one_or_none()

    async def all(self) -> Sequence[Event]:
        rows = await self.session.execute(select(Event).order_by(Event.starts_at.desc(), Event.id))
        return rows.scalars().all()

    async def slots(self, event_ids: Sequence[str]) -> dict[str, list[EventSlot]]:
        rows = await self.session.execute(
            select(EventSlot).where(EventSlot.event_id.in_(event_ids)).order_by(EventSlot.slot_id)
        )
        found: dict[str, list[EventSlot]] = {event_id: [] for event_id in event_ids}
        for slot in rows.scalars():
            found[slot.event_id].append(slot)
        return found

    async def open_owners(self, slot_ids: Sequence[str], *, except_event: str | None) -> dict[str, str]:
        """{slot id: open event id} for those of `slot_ids` held by an open event other than `except_event`."""
        query = select(EventSlot.slot_id, EventSlot.event_id).where(
            EventSlot.slot_id.in_(slot_ids), EventSlot.open.is_(True)
        )
        if except_event is not None:
            query = query.where(EventSlot.event_id != except_event)
        return {row.slot_id: row.event_id for row in await self.session.execute(query)}

    async def replace_slots(self, event_id: str, slots: Sequence[tuple[str, bool]], *, is_open: bool) -> None:
        await self.session.execute(delete(EventSlot).where(EventSlot.event_id == event_id))
        await self.session.flush()
        for slot_id, keep in slots:
            self.session.add(EventSlot(event_id=event_id, slot_id=slot_id, keep_originals=keep, open=is_open))
        await self.session.flush()

    async def set_slots_open(self, event_id: str, is_open: bool) -> None:
        await self.session.execute(
            update(EventSlot).where(EventSlot.event_id == event_id).values(open=is_open)
        )
        await self.session.flush()

    async def original_paths(self, event_id: str) -> list[str]:
        rows = await self.session.execute(
            select(EventPhoto.original_path).where(
                EventPhoto.event_id == event_id, EventPhoto.original_path.is_not(None)
            )
        )
        return [path for path in rows.scalars() if path is not None]

    # --- photos ------------------------------------------------------------------------------------------
    def _photos(self, event_id: str, *, public: bool) -> Any:
        """Done jobs of the event whose files cleanup has not removed; `public` leaves hidden ones out."""
        query = (
            select(*PHOTO_COLUMNS)
            .outerjoin(EventPhoto, EventPhoto.job_id == Job.id)
            .where(
                Job.event_id == event_id,
                Job.status == JobStatus.done,
                Job.result_path.is_not(None),
                Job.cleaned_at.is_(None),
            )
        )
        if public:
            query = query.where(EventPhoto.hidden_at.is_(None))
        return query

    async def photo_page(
        self, event_id: str, *, public: bool, limit: int, offset: int
    ) -> tuple[Sequence[Row[Any]], int]:
        base = self._photos(event_id, public=public)
        total = (await self.session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
        rows = await self.session.execute(
            base.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
        )
        return rows.all(), int(total)

    async def photo(self, event_id: str, job_id: str, *, public: bool) -> Row[Any] | None:
        row = await self.session.execute(self._photos(event_id, public=public).where(Job.id == job_id))
        return row.first()

    async def stream_photos(self, event_id: str) -> AsyncIterator[Row[Any]]:
        query = self._photos(event_id, public=False).order_by(Job.created_at, Job.id)
        result = await self.session.stream(query.execution_options(yield_per=500))
        async for row in result:
            yield row

    async def photo_state(self, job_id: str) -> EventPhoto | None:
        return await self.session.get(EventPhoto, job_id)

    async def stream_jobs(self, event_id: str) -> AsyncIterator[Any]:
        query = (
            select(
                Job.id,
                Job.slot_id,
                Job.status,
                Job.failure_reason,
                Job.provider,
                Job.created_at,
                Job.finished_at,
                Job.duration_ms,
                Job.result_expires_at,
                Job.cleaned_at,
                EventPhoto.hidden_at,
                EventPhoto.original_path,
            )
            .outerjoin(EventPhoto, EventPhoto.job_id == Job.id)
            .where(Job.event_id == event_id)
            .order_by(Job.created_at, Job.id)
        )
        result = await self.session.stream(query.execution_options(yield_per=500))
        async for row in result:
            yield row

    # --- engagement --------------------------------------------------------------------------------------
    async def job_outcomes(self, event_id: str) -> AsyncIterator[Any]:
        query = select(Job.created_at, Job.status).where(
            Job.event_id == event_id, Job.source == JobSource.ingest
        )
        result = await self.session.stream(query.execution_options(yield_per=1000))
        async for row in result:
            yield row

    async def counters(self, event_id: str) -> Sequence[EventEngagement]:
        rows = await self.session.execute(select(EventEngagement).where(EventEngagement.event_id == event_id))
        return rows.scalars().all()
