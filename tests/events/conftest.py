"""Fixtures for event tests: the ingest password set, and helpers to create events and send booth shots."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.settings import service as settings_service
from tests.ingest.conftest import INGEST_PASSWORD, upload
from tests.support.images import jpeg

__all__ = ["INGEST_PASSWORD", "create_event", "shoot"]


@pytest.fixture
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture
async def ingest_password(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    async with sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
    return INGEST_PASSWORD


async def create_event(
    client: httpx.AsyncClient, headers: dict[str, str], *, slots: list[str], **body: Any
) -> dict[str, Any]:
    now = utcnow()
    payload: dict[str, Any] = {
        "name": "Anna & Ben",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=6)).isoformat(),
        "retention_days": 14,
        "slots": [{"slot_id": s} for s in slots],
        **body,
    }
    response = await client.post("/api/events", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def shoot(client: httpx.AsyncClient, slot: str, n: int = 0) -> httpx.Response:
    response = await upload(client, jpeg(64 + n, 48), slot=slot, id=f"shot-{slot}-{n}", hash=f"h{n}")
    assert response.status_code == 200, response.text
    return response
