"""Queries on `provider_key`."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import ProviderKey, ProviderSetting


async def list_keys(session: AsyncSession, provider: str | None = None) -> Sequence[ProviderKey]:
    query = select(ProviderKey).order_by(ProviderKey.provider, ProviderKey.created_at, ProviderKey.id)
    if provider is not None:
        query = query.where(ProviderKey.provider == provider)
    return (await session.scalars(query)).all()


async def get(session: AsyncSession, key_id: uuid.UUID) -> ProviderKey | None:
    return await session.get(ProviderKey, key_id)


async def version(session: AsyncSession) -> tuple[int, datetime | None, int, datetime | None]:
    """Changes anywhere in either table change this: a delete the count, anything else `updated_at`."""
    keys = (await session.execute(select(func.count(), func.max(ProviderKey.updated_at)))).one()
    settings = (await session.execute(select(func.count(), func.max(ProviderSetting.updated_at)))).one()
    return int(keys[0]), keys[1], int(settings[0]), settings[1]


async def list_settings(session: AsyncSession) -> Sequence[ProviderSetting]:
    return (await session.scalars(select(ProviderSetting))).all()
