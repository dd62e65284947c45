"""Deadline, limits and fallback through the real ingest path against a fake Gemini upstream."""

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images

__all__ = ["gemini_fake", "gemini_server"]

pytestmark = pytest.mark.usefixtures("ingest_password")

SLOT = "slot-005"


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {
        "gemini_api_key": GeminiFake.api_key,
        "gemini_base_url": gemini_server.url,
        "permit_wait_seconds": 0.3,
    }


@pytest.fixture
async def gemini_slot(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    await configure_slot(
        sessionmaker,
        SLOT,
        provider="gemini",
        operation="edit",
        settings={"params": {"prompt": "make it pop"}},
    )
    async with sessionmaker() as session, session.begin():
        await settings_service.update(
            session, {"t_sync_response_seconds": 5, "slot_concurrency": 2}, actor="test"
        )
    return SLOT


@pytest.mark.slow
async def test_slow_provider_gets_504_by_the_deadline_and_permits_come_back(
    app: FastAPI,
    client: httpx.AsyncClient,
    gemini_fake: GeminiFake,
    gemini_slot: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gemini_fake.always(Reply.slow(30, GeminiFake.image_reply(images.jpeg())))
    started = time.monotonic()
    response = await upload(client, images.jpeg(), slot=gemini_slot)
    elapsed = time.monotonic() - started

    assert response.status_code == 504, response.text
    assert response.json()["code"] == "timeout"
    assert elapsed <= 5 + 1, f"504 took {elapsed:.2f}s"
    [job] = await jobs(sessionmaker)
    assert (job.status, job.failure_reason) == ("timeout", "T_sync_response_exceeded")
    assert app.state.limiter.in_flight() == 0
    assert not list((app.state.config.media_root / "temp").iterdir())
    assert not (app.state.config.media_root / "results").exists()


@pytest.mark.slow
async def test_one_more_upload_than_the_slot_limit_gets_exactly_one_429(
    app: FastAPI, client: httpx.AsyncClient, gemini_fake: GeminiFake, gemini_slot: str
) -> None:
    gemini_fake.always(Reply.slow(1.5, GeminiFake.image_reply(images.jpeg())))
    responses = await asyncio.gather(
        *(
            upload(client, images.jpeg(), slot=gemini_slot, id=f"CY04N068111304S2L_0000000{i}.")
            for i in range(3)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429], [r.text for r in responses]
    [busy] = [r for r in responses if r.status_code == 429]
    assert busy.json()["code"] == "busy"
    assert int(busy.headers["retry-after"]) >= 1
    assert gemini_fake.count() == 2, "the refused upload never reached the provider"
    assert app.state.limiter.in_flight() == 0


async def test_on_failure_original_answers_200_with_the_photo_and_records_the_failure(
    client: httpx.AsyncClient,
    gemini_fake: GeminiFake,
    gemini_slot: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await configure_slot(
        sessionmaker, SLOT, settings={"params": {"prompt": "make it pop"}, "on_failure": "original"}
    )
    gemini_fake.always(gemini_fake.blocked("PROHIBITED_CONTENT"))
    photo = images.jpeg(90, 60)
    response = await upload(client, photo, slot=gemini_slot)

    assert response.status_code == 200, response.text
    assert response.headers["x-photochanger-fallback"] == "provider_refused"
    assert response.headers["content-type"] == "image/jpeg"
    assert images.decode(response.content).size == (90, 60)
    [job] = await jobs(sessionmaker)
    assert (job.status, job.failure_reason, job.fallback) == ("failed", "provider_refused", "original")


async def test_refusal_without_fallback_is_422_provider_refused(
    client: httpx.AsyncClient,
    gemini_fake: GeminiFake,
    gemini_slot: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gemini_fake.always(GeminiFake.finish("IMAGE_SAFETY"))
    response = await upload(client, images.jpeg(), slot=gemini_slot)
    assert response.status_code == 422
    assert response.json()["code"] == "provider_refused"
    [job] = await jobs(sessionmaker)
    assert (job.status, job.failure_reason) == ("failed", "provider_refused")
