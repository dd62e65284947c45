"""Fallback chains and hedging: the first image of the chain wins inside the one deadline; the job, the
job API and the webhook say which link produced it and why the others did not."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import JobStatus
from tests.fakes.fixtures import gemini_fake, gemini_server, openai_fake, openai_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.openai import OpenAIFake
from tests.fakes.server import FakeUpstream, Handler, Reply
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images

__all__ = ["gemini_fake", "gemini_server", "openai_fake", "openai_server"]

PRIMARY = {"prompt": "make it gold"}
FALLBACK = {
    "provider": "gpt_image",
    "operation": "edit",
    "params": {"prompt": "make it gold", "model": "gpt-image-1"},
}


@pytest.fixture
def config_overrides(gemini_server: GeminiFake, openai_server: OpenAIFake) -> dict[str, Any]:
    return {
        "gemini_api_key": GeminiFake.api_key,
        "gemini_base_url": gemini_server.url,
        "openai_api_key": OpenAIFake.api_key,
        "openai_base_url": openai_server.url,
        "webhook_allowed_targets": ["127.0.0.1"],
        "webhook_max_seconds": 5,
    }


async def _chain_slot(
    sessionmaker: async_sessionmaker[AsyncSession], *, hedge: float | None = None, **extra: Any
) -> None:
    settings: dict[str, Any] = {"params": PRIMARY, "fallbacks": [FALLBACK], **extra}
    if hedge is not None:
        settings["hedge_after_seconds"] = hedge
    await configure_slot(sessionmaker, "slot-001", provider="gemini", operation="edit", settings=settings)


async def test_a_failing_primary_hands_over_to_the_fallback_and_the_job_says_so(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    await _chain_slot(sessionmaker)
    gemini_fake.script(GeminiFake.blocked())
    response = await upload(client, images.jpeg())
    assert response.status_code == 200, response.text
    assert openai_fake.count() == 1
    (job,) = await jobs(sessionmaker)
    assert job.status == JobStatus.done
    assert (job.result_link, job.result_provider) == (1, "gpt_image")
    assert job.attempts is not None
    assert [(a["link"], a["provider"], a["outcome"], a.get("reason")) for a in job.attempts] == [
        (0, "gemini", "failed", "provider_refused"),
        (1, "gpt_image", "done", None),
    ]


async def test_a_working_primary_leaves_the_fallback_alone(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    await _chain_slot(sessionmaker)
    assert (await upload(client, images.jpeg())).status_code == 200
    assert openai_fake.count() == 0
    (job,) = await jobs(sessionmaker)
    assert (job.result_link, job.result_provider) == (0, "gemini")
    assert job.attempts is not None
    assert [a["outcome"] for a in job.attempts] == ["done", "not_started"]


async def test_when_every_link_fails_on_failure_original_applies_after_the_chain(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    await _chain_slot(sessionmaker, on_failure="original")
    gemini_fake.script(GeminiFake.blocked())
    openai_fake.script(
        Reply(status=400, json={"error": {"message": "nope", "type": "invalid_request_error"}})
    )
    photo = images.jpeg()
    response = await upload(client, photo)
    assert response.status_code == 200
    (job,) = await jobs(sessionmaker)
    assert job.status == JobStatus.failed
    assert job.fallback == "original"
    assert job.result_link is None
    assert job.attempts is not None
    assert [a["outcome"] for a in job.attempts] == ["failed", "failed"]


async def test_hedging_starts_the_fallback_when_the_primary_is_slow_and_cancels_the_loser(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
) -> None:
    await _chain_slot(sessionmaker, hedge=0.5)
    gemini_fake.script(Reply.slow(6, GeminiFake.image_reply(images.png())))
    response = await upload(client, images.jpeg())
    assert response.status_code == 200
    (job,) = await jobs(sessionmaker)
    assert (job.result_link, job.result_provider) == (1, "gpt_image")
    assert job.duration_ms is not None
    assert job.duration_ms < 5000
    assert job.attempts is not None
    assert [(a["outcome"], a.get("reason")) for a in job.attempts] == [
        ("cancelled", "another_link_answered"),
        ("done", None),
    ]


async def test_fallbacks_are_validated_when_the_slot_is_saved(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    slot = (await client.get("/api/slots/slot-001", headers=admin_headers)).json()
    body = {
        "display_name": slot["display_name"],
        "provider": "gemini",
        "operation": "edit",
        "params": PRIMARY,
        "is_active": True,
        "version": slot["version"],
        "fallbacks": [{"provider": "gpt_image", "operation": "edit", "params": {}}],
        "hedge_after_seconds": 2,
    }
    refused = await client.put("/api/slots/slot-001", json=body, headers=admin_headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["fallbacks.0.params.prompt"]
    body["fallbacks"] = [FALLBACK]
    saved = await client.put("/api/slots/slot-001", json=body, headers=admin_headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["fallbacks"][0]["provider"] == "gpt_image"
    assert saved.json()["hedge_after_seconds"] == 2


class Receiver(FakeUpstream):
    def routes(self) -> list[tuple[str, str, list[str], Handler]]:
        return [("main", "/hook", ["POST"], lambda _received: Reply(json={"ok": True}))]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as fake:
        yield fake


async def test_job_api_gallery_and_webhook_name_the_link_that_produced_the_result(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
    ingest_password: str,
    gemini_fake: GeminiFake,
    openai_fake: OpenAIFake,
    receiver: Receiver,
) -> None:
    await _chain_slot(
        sessionmaker, webhook_url=f"{receiver.url}/hook", webhook_secret="whsec-0123456789abcdef"
    )
    gemini_fake.script(GeminiFake.error(500, "INTERNAL", "boom"), GeminiFake.error(500, "INTERNAL", "boom"))
    gemini_fake.script(GeminiFake.error(500, "INTERNAL", "boom"))
    response = await upload(client, images.jpeg())
    assert response.status_code == 200
    job_id = response.headers["x-job-id"]
    job = (await client.get(f"/api/jobs/{job_id}")).json()
    assert (job["result_link"], job["result_provider"]) == (1, "gpt_image")
    assert [(a["provider"], a["outcome"], a.get("reason")) for a in job["attempts"]] == [
        ("gemini", "failed", "provider_unavailable"),
        ("gpt_image", "done", None),
    ]
    await app.state.webhooks.drain(10)
    event = json.loads(receiver.last().raw)
    assert event["link"] == {"index": 1, "provider": "gpt_image", "operation": "edit"}
    assert event["attempts"][0]["reason"] == "provider_unavailable"
    gallery = (await client.get("/api/slots/slot-001", headers=admin_headers)).json()
    assert gallery["recent_results"][0]["result_provider"] == "gpt_image"
    assert gallery["recent_results"][0]["result_link"] == 1
    usage = (await client.get("/api/stats/usage?days=1", headers=admin_headers)).json()
    by_link = {(r["link"], r["provider"]): (r["calls"], r["images"], r["failures"]) for r in usage["rows"]}
    # One call per link (the driver's own retries inside a call are not counted apart).
    assert by_link == {(0, "gemini"): (1, 0, 1), (1, "gpt_image"): (1, 1, 0)}
