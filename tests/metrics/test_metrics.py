"""`/metrics` after a scripted mix of outcomes against the fake Gemini upstream, token protection, cleanup."""

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.ingest.conftest import configure_slot, ingest_password, sessionmaker, upload
from tests.support import images

__all__ = ["gemini_fake", "gemini_server", "ingest_password", "sessionmaker"]

SLOT = "slot-005"
METRICS_TOKEN = "metrics-token-" + "m" * 30


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {
        "gemini_api_key": GeminiFake.api_key,
        "gemini_base_url": gemini_server.url,
        "metrics_token": METRICS_TOKEN,
    }


@pytest.fixture
async def gemini_slot(app: FastAPI, ingest_password: str) -> str:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    await configure_slot(
        maker, SLOT, provider="gemini", operation="edit", settings={"params": {"prompt": "pop"}}
    )
    async with maker() as session, session.begin():
        await settings_service.update(session, {"t_sync_response_seconds": 5}, actor="test")
    return SLOT


async def _metrics(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return scrape(response.text)


async def test_metrics_need_the_token_when_one_is_set(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "not_authenticated"
    assert "bearer" in wrong.headers["www-authenticate"].lower()
    samples = await _metrics(client)
    assert value(samples, "photochanger_database_up") == 1
    assert value(samples, "photochanger_t_sync_response_seconds") > 0
    assert value(samples, "photochanger_media_filesystem_size_bytes") > 0
    # The 401s above are counted under their route template.
    assert (
        value(samples, "photochanger_http_requests_total", method="GET", route="/metrics", status="401") == 2
    )


@pytest.mark.parametrize("config_overrides", [{}])
async def test_metrics_are_open_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "photochanger_jobs_in_flight 0.0" in response.text


@pytest.mark.slow
async def test_a_mix_of_outcomes_is_counted_by_slot_provider_and_outcome(
    app: FastAPI, client: httpx.AsyncClient, gemini_fake: GeminiFake, gemini_slot: str
) -> None:
    gemini_fake.script(
        GeminiFake.image_reply(images.jpeg()),
        GeminiFake.image_reply(images.jpeg()),
        gemini_fake.blocked("PROHIBITED_CONTENT"),
        Reply.slow(30, GeminiFake.image_reply(images.jpeg())),
    )
    statuses = []
    for n in range(4):
        response = await upload(client, images.jpeg(), slot=gemini_slot, id=f"shot-{n}")
        statuses.append(response.status_code)
    wrong = await upload(client, images.jpeg(), slot=gemini_slot, password="wrong-password", id="shot-x")
    assert statuses == [200, 200, 422, 504]
    assert wrong.status_code == 401

    samples = await _metrics(client)
    labels = {"slot": SLOT, "provider": "gemini", "source": "ingest"}
    counted = "photochanger_ingest_requests_total"
    assert value(samples, counted, **labels, outcome="done") == 2
    assert value(samples, counted, **labels, outcome="refused") == 1
    assert value(samples, counted, **labels, outcome="timeout") == 1
    assert value(samples, "photochanger_ingest_duration_seconds_count", **labels) == 4
    # The timeout took the whole 5 s budget: it sits above the 3 s bucket, the others below 1 s... or close.
    assert value(samples, "photochanger_ingest_duration_seconds_bucket", **labels, le="3.0") == 3
    assert value(samples, "photochanger_ingest_duration_seconds_bucket", **labels, le="7.5") == 4
    assert (
        value(samples, "photochanger_provider_latency_seconds_count", provider="gemini", outcome="done") == 2
    )
    route = "/api/ingest/{slot_id}"
    http = "photochanger_http_requests_total"
    assert value(samples, http, method="POST", route=route, status="200") == 2
    assert value(samples, http, method="POST", route=route, status="504") == 1
    assert value(samples, http, method="POST", route=route, status="401") == 1
    assert value(samples, "photochanger_http_errors_total", route=route, code="timeout") == 1
    assert value(samples, "photochanger_jobs_in_flight") == 0
    assert not any(key[0] == http and ("route", f"/api/ingest/{SLOT}") in key[1] for key in samples)


async def test_login_failures_and_throttles_are_counted(client: httpx.AsyncClient) -> None:
    for _ in range(12):
        response = await client.post("/api/auth/login", json={"username": "admin", "password": "wrong-one"})
        if response.status_code == 429:
            break
    samples = await _metrics(client)
    failures = value(samples, "photochanger_login_failures_total")
    assert failures >= 1
    assert value(samples, "photochanger_login_throttled_total") == 1
    assert response.status_code == 429


async def test_cleanup_runs_and_the_last_success_come_from_the_database(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    before = await _metrics(client)
    assert value(before, "photochanger_cleanup_last_success_timestamp_seconds") == 0
    started = time.time()
    for _ in range(2):
        assert (await client.post("/api/media/cleanup", headers=admin_headers)).status_code == 200
    dry = await client.post("/api/media/cleanup", params={"dry_run": "true"}, headers=admin_headers)
    assert dry.status_code == 200
    after = await _metrics(client)
    assert value(after, "photochanger_cleanup_runs_total", result="ok") == 2
    assert value(after, "photochanger_cleanup_runs_total", result="error") == 0
    assert value(after, "photochanger_cleanup_deleted_files_total") == 0
    assert value(after, "photochanger_cleanup_last_success_timestamp_seconds") >= int(started)


async def test_each_app_has_its_own_registry(app: FastAPI, client: httpx.AsyncClient) -> None:
    from photochanger.app import create_app

    other = create_app(app.state.config)
    assert other.state.metrics.registry is not app.state.metrics.registry
    await client.get("/health/live")
    assert other.state.metrics.http_requests.labels("GET", "/health/live", "200")._value.get() == 0


async def test_requests_refused_before_a_job_exists_are_counted_by_problem_code(
    app: FastAPI, client: httpx.AsyncClient, ingest_password: str
) -> None:
    wrong = await upload(client, images.jpeg(), slot="slot-002", password="wrong-password", id="a")
    broken = await upload(client, b"\xff\xd8 not really a jpeg", slot="slot-002", id="b")
    unknown = await upload(client, images.jpeg(), slot="slot-999", id="c")
    assert (wrong.status_code, broken.status_code, unknown.status_code) == (401, 415, 404)

    samples = await _metrics(client)
    counted = "photochanger_ingest_requests_total"
    labels = {"slot": "slot-002", "provider": "local", "source": "ingest"}
    assert value(samples, counted, **labels, outcome="invalid_password") == 1
    assert value(samples, counted, **labels, outcome="unsupported_media_type") == 1
    assert (
        value(samples, counted, slot="slot-999", provider="none", source="ingest", outcome="slot_not_found")
        == 1
    )
    # No job was created, so no duration was observed.
    assert value(samples, "photochanger_ingest_duration_seconds_count", **labels) == 0
