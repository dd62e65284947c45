"""Usage and cost: provider calls, images and refusals per day, provider, key, slot and model, priced by
the admin's price per image, exported at `/api/stats/usage` and shown as today's spend on the dashboard."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.accounts.test_keys import GEMINI_SLOT, add_key
from tests.accounts.test_rotation import SECOND, shot
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import configure_slot

MODEL = "gemini-3.1-flash-image"


async def test_calls_images_refusals_and_cost_per_key_and_slot(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
) -> None:
    gemini_fake.extra_keys = {SECOND}
    await configure_slot(sessionmaker, "slot-001", **GEMINI_SLOT)
    await add_key(client, admin_headers, GeminiFake.api_key)
    await add_key(client, admin_headers, SECOND)
    prices = {"prices": {MODEL: 0.039}}
    assert (
        await client.put("/api/provider-settings/gemini", json=prices, headers=admin_headers)
    ).status_code == 200
    gemini_fake.script(GeminiFake.blocked())
    statuses = [(await shot(client)).status_code for _ in range(5)]
    assert statuses == [422, 200, 200, 200, 200]

    usage = await client.get("/api/stats/usage?days=1", headers=admin_headers)
    assert usage.status_code == 200
    body = usage.json()
    first, second = f"…{GeminiFake.api_key[-4:]}", f"…{SECOND[-4:]}"
    assert {(r["key"], r["slot_id"], r["model"]) for r in body["rows"]} == {
        (first, "slot-001", MODEL),
        (second, "slot-001", MODEL),
    }
    rows = {r["key"]: r for r in body["rows"]}
    # Turns: key 1 refused (blocked content), key 2, key 1, key 2, key 1.
    assert (rows[first]["calls"], rows[first]["images"], rows[first]["refusals"]) == (3, 2, 1)
    assert (rows[second]["calls"], rows[second]["images"], rows[second]["refusals"]) == (2, 2, 0)
    assert rows[first]["cost"] == 0.078
    assert body["today_cost"] == 0.156
    assert body["today_images"] == 4
    assert GeminiFake.api_key not in usage.text

    dashboard = await client.get("/api/stats/usage", headers=admin_headers)
    assert dashboard.json()["days"] == 7


async def test_usage_needs_the_stats_permission(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/stats/usage")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
