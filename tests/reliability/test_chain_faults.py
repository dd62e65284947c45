"""Issue 18's fault suite on the fakes, with its figures (printed, and written to the artifacts directory):

- the primary (Gemini) failing 30 % of calls: with a fallback (OpenAI) at least 99 % of 200 shots answer 200
  within the deadline; without it, the share that fails is measured;
- one of two Gemini keys hitting its quota: no shot fails for it;
- a primary whose slowest tenth takes longer than the deadline: hedging brings the p95 back under it.
"""

import asyncio
import json
import math
import random
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from photochanger.config import AppConfig
from photochanger.models import JobStatus, Slot
from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server, openai_fake, openai_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import Reply
from tests.ingest.conftest import booth_fields
from tests.reliability.conftest import INGEST_PASSWORD, assert_clean_state
from tests.support import images
from tests.support.artifacts import ARTIFACTS

__all__ = ["gemini_fake", "gemini_server", "openai_fake", "openai_server"]

pytestmark = pytest.mark.reliability

SHOTS = 200
HEDGE_SHOTS = 100
IN_FLIGHT = 8
DEADLINE = 10
FAULTS = [
    GeminiFake.error(500, "INTERNAL", "internal error"),
    GeminiFake.error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    Reply.malformed(),
    Reply(status=502, body=b"<html>Bad Gateway</html>", content_type="text/html"),
]
FALLBACK = {
    "provider": "gpt_image",
    "operation": "edit",
    "params": {"prompt": "make it pop", "model": "gpt-image-1"},
}
FIGURES = ARTIFACTS / "issue18-fault-figures.json"


@pytest.fixture
def config_overrides(
    config_overrides: dict[str, Any], gemini_server: GeminiFake, openai_server: OpenAIFake
) -> dict[str, Any]:
    return {
        **config_overrides,
        "gemini_api_key": GeminiFake.api_key,
        "gemini_base_url": gemini_server.url,
        "openai_api_key": OpenAIFake.api_key,
        "openai_base_url": openai_server.url,
        "secret_key": "fault-suite-secret-" + "f" * 30,
        "permit_wait_seconds": 5,
    }


async def _setup(app: FastAPI, slot: str, settings: dict[str, Any]) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await session.execute(
            update(Slot).where(Slot.id == slot).values(provider="gemini", operation="edit", settings=settings)
        )
        await settings_service.update(
            session,
            {
                "t_sync_response_seconds": DEADLINE,
                "slot_concurrency": 2 * IN_FLIGHT,
                "provider_concurrency": 2 * IN_FLIGHT,
                "global_concurrency": 4 * IN_FLIGHT,
            },
            actor="test",
        )


async def _shots(client: httpx.AsyncClient, slot: str, count: int, tag: str) -> list[tuple[int, float]]:
    """`count` booth shots, `IN_FLIGHT` at a time: (status, seconds until the answer) each."""
    photo = images.jpeg(320, 240)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int) -> tuple[int, float]:
        async with gate:
            started = time.monotonic()
            response = await client.post(
                f"/api/ingest/{slot}",
                data=booth_fields(INGEST_PASSWORD, id=f"{tag}{n:04d}.", hash=f"{tag}{n:036x}"),
                files={"fileToUpload": ("IMG.JPG", photo, "image/jpeg")},
                timeout=DEADLINE + 10,
            )
            return response.status_code, time.monotonic() - started

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def _p95(seconds: list[float]) -> float:
    ordered = sorted(seconds)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def _record(name: str, figures: dict[str, Any]) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    known[name] = figures
    FIGURES.write_text(json.dumps(known, indent=2))
    print(f"\nissue 18 figures, {name}: {figures}")  # noqa: T201 - the figures are this suite's output


def _script_faults(fake: GeminiFake, calls: int, seed: int) -> None:
    rng = random.Random(seed)
    fake.script(
        *(
            FAULTS[i % len(FAULTS)] if rng.random() < 0.3 else GeminiFake.image_reply(images.jpeg(64, 48))
            for i in range(calls)
        )
    )


def _in_time(results: list[tuple[int, float]]) -> int:
    return sum(1 for status, seconds in results if status == 200 and seconds <= DEADLINE)


async def test_primary_failing_30_percent_with_and_without_a_fallback(
    app: FastAPI,
    client: httpx.AsyncClient,
    config: AppConfig,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    await _setup(app, "slot-007", {"params": {"prompt": "make it pop"}})
    _script_faults(gemini_fake, SHOTS * 3, seed=18)
    alone = await _shots(client, "slot-007", SHOTS, "ALONE")
    gemini_calls_alone = gemini_fake.count("main")

    gemini_fake.reset()
    _script_faults(gemini_fake, SHOTS * 3, seed=81)
    await _setup(app, "slot-008", {"params": {"prompt": "make it pop"}, "fallbacks": [FALLBACK]})
    chained = await _shots(client, "slot-008", SHOTS, "CHAIN")
    gemini_calls = gemini_fake.count("main")

    figures = {
        "shots": SHOTS,
        "deadline_s": DEADLINE,
        "without_fallback_ok_in_time": _in_time(alone),
        "without_fallback_failed_share": round(1 - _in_time(alone) / SHOTS, 3),
        "without_fallback_gemini_calls": gemini_calls_alone,
        "with_fallback_ok_in_time": _in_time(chained),
        "with_fallback_share": round(_in_time(chained) / SHOTS, 3),
        "with_fallback_gemini_calls": gemini_calls,
        "with_fallback_openai_calls": openai_fake.count(),
        "with_fallback_p95_s": round(_p95([s for _, s in chained]), 2),
    }
    _record("primary_failing_30_percent", figures)
    assert _in_time(chained) >= 0.99 * SHOTS, figures
    assert _in_time(alone) < SHOTS, "the faults should cost shots without a fallback"
    rows = await assert_clean_state(app, config)
    chain_rows = [r for r in rows if r.slot_id == "slot-008" and r.status == JobStatus.done]
    by_link = {link: sum(1 for r in chain_rows if r.result_link == link) for link in (0, 1)}
    # The fallback answered every call it got: each one is a result of link 1.
    assert by_link[1] == openai_fake.count()
    assert by_link[0] + by_link[1] == len(chain_rows)
    assert by_link[1] > 0


async def test_one_of_two_keys_hitting_quota_fails_no_shot(
    app: FastAPI,
    client: httpx.AsyncClient,
    config: AppConfig,
    admin_headers: dict[str, str],
    gemini_fake: GeminiFake,
) -> None:
    second = "second-project-key-9876"
    gemini_fake.extra_keys = {second}
    gemini_fake.exhausted_keys = {GeminiFake.api_key}
    for key in (GeminiFake.api_key, second):
        added = await client.post(
            "/api/provider-keys", json={"provider": "gemini", "api_key": key}, headers=admin_headers
        )
        assert added.status_code == 201
    await _setup(app, "slot-007", {"params": {"prompt": "make it pop"}})
    results = await _shots(client, "slot-007", SHOTS, "QUOTA")
    sent = [r.headers.get("x-goog-api-key") for r in gemini_fake.received if r.route == "main"]
    figures = {
        "shots": SHOTS,
        "ok_in_time": _in_time(results),
        "calls_with_exhausted_key": sent.count(GeminiFake.api_key),
        "calls_with_other_key": sent.count(second),
    }
    _record("one_of_two_keys_quota", figures)
    assert [s for s, _ in results] == [200] * SHOTS, figures
    await assert_clean_state(app, config)


async def test_hedging_brings_the_p95_of_a_slow_tailed_primary_under_the_deadline(
    app: FastAPI,
    client: httpx.AsyncClient,
    config: AppConfig,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    def slow_tail(seed: int) -> None:
        rng = random.Random(seed)
        fast = Reply.slow(0.3, GeminiFake.image_reply(images.jpeg(64, 48)))
        slow = Reply.slow(DEADLINE + 3, GeminiFake.image_reply(images.jpeg(64, 48)))
        gemini_fake.script(*(slow if rng.random() < 0.1 else fast for _ in range(HEDGE_SHOTS * 2)))

    slow_tail(10)
    await _setup(app, "slot-007", {"params": {"prompt": "make it pop"}, "fallbacks": [FALLBACK]})
    plain = await _shots(client, "slot-007", HEDGE_SHOTS, "PLAIN")

    gemini_fake.reset()
    slow_tail(11)
    hedged_settings = {"params": {"prompt": "make it pop"}, "fallbacks": [FALLBACK], "hedge_after_seconds": 2}
    await _setup(app, "slot-008", hedged_settings)
    hedged = await _shots(client, "slot-008", HEDGE_SHOTS, "HEDGE")

    figures = {
        "shots": HEDGE_SHOTS,
        "deadline_s": DEADLINE,
        "hedge_after_s": 2,
        "p95_without_hedging_s": round(_p95([s for _, s in plain]), 2),
        "ok_in_time_without_hedging": _in_time(plain),
        "p95_with_hedging_s": round(_p95([s for _, s in hedged]), 2),
        "ok_in_time_with_hedging": _in_time(hedged),
        "openai_calls_with_hedging": openai_fake.count(),
    }
    _record("hedging_slow_tail", figures)
    assert _p95([s for _, s in plain]) >= DEADLINE, figures
    assert _p95([s for _, s in hedged]) < DEADLINE, figures
    await assert_clean_state(app, config)
