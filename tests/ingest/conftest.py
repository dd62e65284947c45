"""Fixtures for booth uploads: a known ingest password and the booth's real form fields."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import Job, Slot
from photochanger.settings import service as settings_service

INGEST_PASSWORD = "booth-pass-Ω-2026"


def booth_fields(password: str | None = INGEST_PASSWORD, **extra: str) -> dict[str, str]:
    """The text fields Breeze DSLR Remote Pro sends with every shot."""
    fields = {
        "time": "1758217512",
        "user_id": "Acer",
        "id": "CY04N068111304S2L_00000001.",
        "profile": r"C:\Users\Acer\Documents\PhotoboothImages\setup.xml",
        "status": r"C:\Users\Acer\Documents\PhotoboothImages\preview.jpg",
        "hash": "7b6c683e1d3fd29c8701791c54e3c12a236f5a5b",
        "name": "DESKTOP-K968T3F",
        "model": "Windows",
        "version": "3.30.2",
    }
    if password is not None:
        fields["password"] = password
    fields.update(extra)
    return fields


async def upload(
    client: httpx.AsyncClient,
    image: bytes | None,
    *,
    slot: str = "slot-001",
    password: str | None = INGEST_PASSWORD,
    filename: str = "IMG_0003.JPG",
    content_type: str = "image/jpeg",
    **extra: str,
) -> httpx.Response:
    files: Any = {"fileToUpload": (filename, image, content_type)} if image is not None else None
    return await client.post(f"/api/ingest/{slot}", data=booth_fields(password, **extra), files=files)


@pytest.fixture
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture
async def ingest_password(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    async with sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
    return INGEST_PASSWORD


async def jobs(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Job]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Job).order_by(Job.created_at))).scalars())


async def configure_slot(sessionmaker: async_sessionmaker[AsyncSession], slot_id: str, **values: Any) -> None:
    async with sessionmaker() as session, session.begin():
        slot = await session.get(Slot, slot_id)
        assert slot is not None
        for key, value in values.items():
            setattr(slot, key, value)
