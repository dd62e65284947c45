"""Queries over media_object (and the slot rows that may refer to it)."""

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import MediaObject, Slot


class MediaObjectRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, media: MediaObject) -> None:
        self.session.add(media)
        await self.session.flush()

    async def get(self, media_id: str) -> MediaObject | None:
        return await self.session.get(MediaObject, media_id)

    async def list(self) -> Sequence[MediaObject]:
        rows = await self.session.execute(
            select(MediaObject).order_by(MediaObject.created_at.desc(), MediaObject.id)
        )
        return rows.scalars().all()

    async def get_many(self, ids: Iterable[str]) -> Sequence[MediaObject]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows = await self.session.execute(select(MediaObject).where(MediaObject.id.in_(wanted)))
        return rows.scalars().all()

    async def delete(self, media_id: str) -> None:
        await self.session.execute(delete(MediaObject).where(MediaObject.id == media_id))

    async def slots(self) -> Sequence[Slot]:
        rows = await self.session.execute(select(Slot).order_by(Slot.id))
        return rows.scalars().all()
