"""Existence checks over the tables the setup checklist reads (each one an indexed `LIMIT 1`)."""

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.ingest.exceptions import InvalidPassword
from photochanger.models import BoothRefusal, Job, JobSource, JobStatus, MediaObject, Slot


async def _exists(session: AsyncSession, query: Select[Any]) -> bool:
    return (await session.execute(query.limit(1))).first() is not None


async def has_template(session: AsyncSession) -> bool:
    return await _exists(session, select(MediaObject.id))


async def first_configured_slot(session: AsyncSession) -> str | None:
    """The first slot an operator has saved (a fresh slot is at version 1)."""
    row = (await session.execute(select(Slot.id).where(Slot.version > 1).order_by(Slot.id).limit(1))).first()
    return None if row is None else str(row[0])


async def has_booth_job(session: AsyncSession, *, done: bool) -> bool:
    query = select(Job.id).where(Job.source == JobSource.ingest)
    if done:
        query = query.where(Job.status == JobStatus.done)
    return await _exists(session, query)


async def has_wrong_password(session: AsyncSession) -> bool:
    return await _exists(session, select(BoothRefusal.id).where(BoothRefusal.code == InvalidPassword.code))
