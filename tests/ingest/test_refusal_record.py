"""Refused booth uploads are recorded for the admin with the booth's identity (never its password)."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.models import BoothRefusal
from photochanger.problems import service as problems_service
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images


async def refusals(sessionmaker: async_sessionmaker[AsyncSession]) -> list[BoothRefusal]:
    async with sessionmaker() as session:
        return list((await session.execute(select(BoothRefusal).order_by(BoothRefusal.id))).scalars())


async def test_wrong_password_is_recorded_with_the_booth_and_without_the_password(
    client: httpx.AsyncClient, ingest_password: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await upload(client, images.jpeg(64, 48), password="not-the-password")
    assert response.status_code == 401
    [row] = await refusals(sessionmaker)
    assert (row.slot_id, row.code, row.status) == ("slot-001", "invalid_password", 401)
    assert (row.booth_name, row.booth_user, row.booth_version) == ("DESKTOP-K968T3F", "Acer", "3.30.2")
    assert row.detail == "The ingest password is wrong."
    assert "not-the-password" not in repr(vars(row))
    assert await jobs(sessionmaker) == []


async def test_disabled_slot_and_unconfigured_provider_are_recorded(
    client: httpx.AsyncClient, ingest_password: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await configure_slot(sessionmaker, "slot-002", is_active=False)
    await configure_slot(sessionmaker, "slot-003", provider="gemini", operation="edit")
    assert (await upload(client, images.jpeg(64, 48), slot="slot-002")).status_code == 409
    assert (await upload(client, images.jpeg(64, 48), slot="slot-003")).status_code == 502
    rows = await refusals(sessionmaker)
    assert [(r.slot_id, r.code, r.status) for r in rows] == [
        ("slot-002", "slot_disabled", 409),
        ("slot-003", "provider_error", 502),
    ]
    # The disabled slot refuses before the form is read: the booth is unknown there.
    assert rows[0].booth_name is None
    assert rows[1].booth_name == "DESKTOP-K968T3F"
    assert "not configured" in rows[1].detail


async def test_an_accepted_upload_records_no_refusal(
    client: httpx.AsyncClient, ingest_password: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await upload(client, images.jpeg(64, 48))).status_code == 200
    assert await refusals(sessionmaker) == []


async def test_refusals_past_the_retention_are_pruned_on_the_next_one(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with sessionmaker() as session, session.begin():
        for at in (now - timedelta(days=31), now - timedelta(days=29)):
            await problems_service.record_refusal(
                session, slot_id="slot-001", code="busy", status=429, detail="x", fields={}, now=at
            )
        await problems_service.record_refusal(
            session, slot_id="slot-001", code="busy", status=429, detail="y" * 400, fields={}, now=now
        )
    rows = await refusals(sessionmaker)
    assert len(rows) == 2
    assert len(rows[-1].detail) == problems_service.DETAIL_CHARS


def test_the_throttle_caps_rows_per_slot_and_in_total_per_second() -> None:
    throttle = problems_service.RefusalThrottle(per_slot=2, total=3)
    assert [throttle.allow("a", now=10.1) for _ in range(3)] == [True, True, False]
    assert throttle.allow("b", now=10.5) is True
    assert throttle.allow("c", now=10.9) is False
    assert throttle.allow("a", now=11.0) is True


async def test_an_outage_or_shutdown_refusal_writes_nothing(
    app: FastAPI,
    client: httpx.AsyncClient,
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    app.state.ingest.accepting = False  # what a graceful shutdown sets first
    response = await upload(client, images.jpeg(64, 48))
    assert response.status_code == 503
    assert await refusals(sessionmaker) == []
