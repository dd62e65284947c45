"""Queries on `provider_key`."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import ProviderKey


async def list_keys(session: AsyncSession, provider: str | None = None) -> Sequence[ProviderKey]:
    query = select(ProviderKey).order_by(ProviderKey.provider, ProviderKey.created_at, ProviderKey.id)
    if provider is not None:
        query = query.where(ProviderKey.provider == provider)
    return (await session.scalars(query)).all()


async def get(session: AsyncSession, key_id: uuid.UUID) -> ProviderKey | None:
    return await session.get(ProviderKey, key_id)


async def version(session: AsyncSession) -> tuple[int, datetime | None]:
    """Changes anywhere in the table change this pair: a delete the count, anything else `updated_at`."""
    row = (await session.execute(select(func.count(), func.max(ProviderKey.updated_at)))).one()
    return int(row[0]), row[1]
