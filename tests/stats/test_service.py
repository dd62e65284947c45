"""Stats numbers against a hand-computed fixture of job rows, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import Job
from photochanger.stats import rollup, service

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _job(
    n: int,
    *,
    slot: str = "slot-001",
    provider: str = "gemini",
    status: str = "done",
    duration_ms: int | None = None,
    reason: str | None = None,
    source: str = "ingest",
    minutes_ago: float = 10,
) -> Job:
    return Job(
        id=f"job-{n:04d}",
        slot_id=slot,
        source=source,
        status=status,
        failure_reason=reason,
        failure_detail=f"detail {n}" if reason else None,
        provider=provider,
        operation="edit",
        booth_meta={},
        sha256="0" * 64,
        input_size=1,
        input_type="image/jpeg",
        created_at=NOW - timedelta(minutes=minutes_ago),
        duration_ms=duration_ms,
    )


# Booth traffic in the last hour: slot-001 on gemini (4 done, 1 refused, 1 timeout, 1 pending), slot-002 on
# local (2 done); one admin test run; one old job outside the window.
def fixture_jobs() -> list[Job]:
    return [
        _job(1, duration_ms=1000, minutes_ago=50),
        _job(2, duration_ms=2000, minutes_ago=40),
        _job(3, duration_ms=3000, minutes_ago=30),
        _job(4, duration_ms=4000, minutes_ago=20),
        _job(5, status="failed", reason="provider_refused", duration_ms=5000, minutes_ago=15),
        _job(6, status="timeout", reason="T_sync_response_exceeded", duration_ms=6000, minutes_ago=5),
        _job(7, status="pending", minutes_ago=1),
        _job(8, slot="slot-002", provider="local", duration_ms=100),
        _job(9, slot="slot-002", provider="local", duration_ms=300),
        _job(10, source="ui_test", duration_ms=9000),
        _job(11, duration_ms=50_000, status="failed", reason="provider_error", minutes_ago=120),
    ]


@pytest.fixture
async def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session, session.begin():
        session.add_all(fixture_jobs())
        await session.flush()
        for statement in rollup.rebuild_statements(session.get_bind().dialect.name):
            await session.execute(text(statement))
    return maker


async def test_overview_matches_the_hand_computed_numbers(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        stats = await service.overview(session, window="60m", now=NOW)

    booth = stats.booth
    assert (booth.total, booth.pending, booth.done, booth.failed, booth.timeout) == (9, 1, 6, 1, 1)
    assert booth.success_rate == 0.75  # 6 done of 8 finished
    # Finished durations 100 300 1000 2000 3000 4000 5000 6000: p50 at rank 3.5, p95 at rank 6.65.
    assert (booth.p50_ms, booth.p95_ms) == (2500.0, 5650.0)
    assert booth.failure_reasons == {"provider_refused": 1, "T_sync_response_exceeded": 1}
    gemini, local = booth.providers
    assert (gemini.provider, gemini.total, gemini.done, gemini.pending) == ("gemini", 7, 4, 1)
    assert gemini.success_rate == round(4 / 6, 4)
    assert (gemini.p50_ms, gemini.p95_ms) == (3500.0, 5750.0)
    assert (local.provider, local.total, local.p50_ms, local.p95_ms, local.success_rate) == (
        "local",
        2,
        200.0,
        290.0,
        1.0,
    )
    ui = stats.ui_test
    assert (ui.total, ui.done, ui.p50_ms, ui.p95_ms) == (1, 1, 9000.0, 9000.0)
    assert [(s.slot_id, s.total, s.done, s.failed, s.timeout) for s in stats.slots] == [
        ("slot-001", 7, 4, 1, 1),
        ("slot-002", 2, 2, 0, 0),
    ]
    assert stats.until == NOW
    assert stats.since == NOW - timedelta(hours=1)


async def test_a_wider_window_takes_in_the_old_job(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        stats = await service.overview(session, window="3h", now=NOW)
    assert (stats.booth.total, stats.booth.failed) == (10, 2)
    assert stats.booth.failure_reasons["provider_error"] == 1
    # Beyond 2 h the percentiles come from the duration buckets: within 10 % of the exact values. Finished
    # durations 100 300 1000 2000 3000 4000 5000 6000 50000: p50 at rank 4 (3000), p95 at rank 7.6 (32400).
    assert stats.booth.p50_ms is not None
    assert stats.booth.p95_ms is not None
    assert abs(stats.booth.p50_ms - 3000) <= rollup.RELATIVE_ERROR * 3000 + 0.1
    assert abs(stats.booth.p95_ms - 32400) <= rollup.RELATIVE_ERROR * 32400 + 0.1


async def test_slot_stats_and_its_recent_failures_newest_first(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        stats = await service.slot_stats(session, "slot-001", window="1d", now=NOW)

    assert (stats.booth.total, stats.booth.done, stats.booth.failed, stats.booth.timeout) == (8, 4, 2, 1)
    assert stats.ui_test.total == 1
    assert [(f.job_id, f.status, f.failure_reason) for f in stats.recent_failures] == [
        ("job-0006", "timeout", "T_sync_response_exceeded"),
        ("job-0005", "failed", "provider_refused"),
        ("job-0011", "failed", "provider_error"),
    ]
    async with sessionmaker() as session:
        other = await service.slot_stats(session, "slot-002", window="60m", now=NOW)
    assert (other.booth.total, other.booth.p50_ms, other.recent_failures) == (2, 200.0, [])


async def test_an_empty_window_has_no_rates_or_percentiles(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        stats = await service.overview(session, window="5m", now=NOW - timedelta(days=1))
    assert (stats.booth.total, stats.booth.success_rate, stats.booth.p50_ms, stats.slots) == (
        0,
        None,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("60m", timedelta(hours=1)),
        ("24h", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("168h", timedelta(days=7)),
    ],
)
def test_windows_parse(window: str, expected: timedelta) -> None:
    assert service.parse_window(window) == expected


@pytest.mark.parametrize("window", ["8d", "169h", "0m", "60", "1w", "-5m", "abc"])
def test_bad_windows_are_refused(window: str) -> None:
    with pytest.raises(service.InvalidWindow):
        service.parse_window(window)


async def test_api_needs_stats_read_and_validates_the_window(
    client: httpx.AsyncClient,
    operator_headers: dict[str, str],
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    assert (await client.get("/api/stats/overview")).status_code == 401
    assert (await client.get("/api/stats/slots/slot-001")).status_code == 401

    ok = await client.get("/api/stats/overview", params={"window": "7d"}, headers=operator_headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["window"] == "7d"
    slot = await client.get("/api/stats/slots/slot-001", params={"window": "7d"}, headers=operator_headers)
    assert slot.status_code == 200, slot.text
    assert slot.json()["slot_id"] == "slot-001"

    too_wide = await client.get("/api/stats/overview", params={"window": "8d"}, headers=operator_headers)
    assert too_wide.status_code == 422
    assert too_wide.json()["code"] == "invalid_window"
    assert too_wide.json()["errors"][0]["field"] == "window"
    missing = await client.get("/api/stats/slots/nope", headers=operator_headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "slot_not_found"
