"""Guest page opens and downloads are counted per slot and hour for every slot, in an event or not, and the
event photo counts for its event as well."""

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.models import EventEngagement, SlotEngagement
from photochanger.stats import engagement
from tests.events.conftest import create_event, shoot


async def _counts(app: FastAPI) -> dict[str, dict[str, int]]:
    """What the database holds once this process's pending counts are written."""
    await app.state.guest_counts.flush()
    async with app.state.sessionmaker() as session:
        return await engagement.totals(session, since=utcnow() - timedelta(hours=1))


async def test_opens_and_downloads_count_for_a_slot_outside_any_event(
    app: FastAPI,
    client: httpx.AsyncClient,
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    job_id = (await shoot(client, "slot-002", 1)).headers["x-job-id"]
    assert (await client.get(f"/r/{job_id}")).status_code == 200
    assert (await client.get(f"/r/{job_id}")).status_code == 200
    assert (await client.get(f"/public/results/{job_id}")).status_code == 200
    assert await _counts(app) == {"slot-002": {"page_open": 2, "download": 1}}
    async with sessionmaker() as session:
        rows = (await session.execute(select(SlotEngagement))).scalars().all()
        assert {(r.slot_id, r.metric, r.count) for r in rows} == {
            ("slot-002", "page_open", 2),
            ("slot-002", "download", 1),
        }
        assert (await session.execute(select(EventEngagement))).first() is None


async def test_an_event_photo_counts_for_its_event_and_its_slot(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    ingest_password: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    event = await create_event(client, admin_headers, slots=["slot-003"])
    job_id = (await shoot(client, "slot-003", 1)).headers["x-job-id"]
    assert (await client.get(f"/r/{job_id}")).status_code == 200
    assert (await client.get(f"/public/results/{job_id}")).status_code == 200
    assert await _counts(app) == {"slot-003": {"page_open": 1, "download": 1}}
    report = (await client.get(f"/api/events/{event['id']}/engagement", headers=admin_headers)).json()
    assert (report["totals"]["page_opens"], report["totals"]["downloads"]) == (1, 1)


async def test_counts_wait_in_memory_and_add_up_across_flushes(
    app: FastAPI, client: httpx.AsyncClient, ingest_password: str
) -> None:
    job_id = (await shoot(client, "slot-005", 1)).headers["x-job-id"]
    assert (await client.get(f"/r/{job_id}")).status_code == 200
    async with app.state.sessionmaker() as session:
        # Not written per request: a QR-code rush pays no database write per download.
        assert (await session.execute(select(SlotEngagement))).first() is None
    assert await app.state.guest_counts.flush() == 1
    assert await app.state.guest_counts.flush() == 0
    assert (await client.get(f"/r/{job_id}")).status_code == 200
    assert (await client.get(f"/public/results/{job_id}")).status_code == 200
    assert await _counts(app) == {"slot-005": {"page_open": 2, "download": 1}}
