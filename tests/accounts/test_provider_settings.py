"""`/api/provider-settings`: per-provider concurrency and default model, applied by the next shot."""

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import AuditLog
from tests.accounts.conftest import SECRET_KEY
from tests.accounts.test_keys import add_key
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.ingest.conftest import configure_slot, upload
from tests.support import images

NO_MODEL = {"provider": "gemini", "operation": "edit", "settings": {"params": {"prompt": "gold"}}}


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {"gemini_base_url": gemini_server.url, "secret_key": SECRET_KEY, "permit_wait_seconds": 0.2}


async def test_settings_are_stored_audited_and_validated(
    client: httpx.AsyncClient, admin_headers: dict[str, str], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = {"concurrency": 3, "default_model": "gemini-3-pro-image", "prices": {"gemini-3-pro-image": 0.134}}
    saved = await client.put("/api/provider-settings/gemini", json=body, headers=admin_headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["prices"] == {"gemini-3-pro-image": 0.134}
    assert "gemini-2.5-flash-image" in saved.json()["models"]
    listed = {
        s["provider"]: s for s in (await client.get("/api/provider-settings", headers=admin_headers)).json()
    }
    assert listed["gemini"]["concurrency"] == 3
    assert listed["gpt_image"]["concurrency"] is None
    bad = await client.put(
        "/api/provider-settings/gemini",
        json={"default_model": "gemini-9-ultra", "prices": {"nope": 1}},
        headers=admin_headers,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in bad.json()["errors"]) == ["default_model", "prices.nope"]
    assert (await client.put("/api/provider-settings/zzz", json={}, headers=admin_headers)).status_code == 404
    negative = await client.put(
        "/api/provider-settings/gemini", json={"concurrency": 0}, headers=admin_headers
    )
    assert negative.status_code == 422
    async with sessionmaker() as session:
        entries = (
            await session.scalars(select(AuditLog).where(AuditLog.action == "provider_settings.update"))
        ).all()
    assert len(entries) == 1
    assert entries[0].changes["default_model"] == {"old": None, "new": "gemini-3-pro-image"}


async def test_a_slot_without_a_model_uses_the_providers_default_model(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    await configure_slot(sessionmaker, "slot-001", **NO_MODEL)
    await add_key(client, admin_headers, GeminiFake.api_key)
    await client.put(
        "/api/provider-settings/gemini", json={"default_model": "gemini-3-pro-image"}, headers=admin_headers
    )
    assert (await upload(client, images.jpeg())).status_code == 200
    assert gemini_fake.last("main").path.endswith("/models/gemini-3-pro-image:generateContent")


async def test_the_providers_own_concurrency_limit_applies(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    for slot in ("slot-001", "slot-002"):
        await configure_slot(sessionmaker, slot, **NO_MODEL)
    await add_key(client, admin_headers, GeminiFake.api_key)
    gemini_fake.always(Reply.slow(1.5, GeminiFake.image_reply(images.png())), times=4)

    async def both(run: str) -> list[int]:
        first = asyncio.create_task(
            upload(client, images.jpeg(), slot="slot-001", id=f"A{run}", hash=f"a{run}" * 20)
        )
        for _ in range(250):  # the first shot holds its permit, waiting on the slow upstream
            if app.state.limiter.in_flight(provider="gemini"):
                break
            await asyncio.sleep(0.02)
        second = await upload(client, images.jpeg(), slot="slot-002", id=f"B{run}", hash=f"b{run}" * 20)
        return [(await first).status_code, second.status_code]

    assert await both("1") == [200, 200]
    await client.put("/api/provider-settings/gemini", json={"concurrency": 1}, headers=admin_headers)
    gemini_fake.reset()
    gemini_fake.always(Reply.slow(1.5, GeminiFake.image_reply(images.png())), times=4)
    assert await both("2") == [200, 429]
