"""The hourly rollups: kept equal to a recount of the `job` rows by every path that ends a job, read back for
windows with partial hours, and backfilled by the migration; percentiles within the documented bound."""

from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core import migrations
from photochanger.core.db import create_engine
from photochanger.core.time import day_of, hour_of
from photochanger.ingest import ending
from photochanger.ingest import repository as ingest_repository
from photochanger.models import (
    Job,
    JobStatDaily,
    JobStatDailyDuration,
    JobStatDailyDurationAll,
    JobStatHourly,
    JobStatHourlyDuration,
    JobStatHourlyDurationAll,
    JobStatus,
)
from photochanger.settings import service as settings_service
from photochanger.stats import repository, rollup, service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import configure_slot, ingest_password, sessionmaker, upload
from tests.support import images
from tests.support.db import DatabaseFactory

__all__ = ["gemini_fake", "gemini_server", "ingest_password", "sessionmaker"]

NOW = datetime(2026, 11, 22, 12, 20, tzinfo=UTC)
Rollups = tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]


def recount(jobs: list[Job], grain: Callable[[datetime], datetime] = hour_of) -> Rollups:
    """Both rollups of one grain (hourly by default) recomputed from raw job rows: (count, duration sum)
    keys and duration bucket keys."""
    counts: Counter[tuple[Any, ...]] = Counter()
    buckets: Counter[tuple[Any, ...]] = Counter()
    for job in jobs:
        if job.status == JobStatus.pending:
            continue
        hour = grain(job.created_at)
        key = (hour, job.slot_id, job.source, job.provider, job.status, job.failure_reason or "")
        counts[(*key, "jobs")] += 1
        counts[(*key, "ms")] += job.duration_ms or 0
        if job.duration_ms is not None:
            bucket = rollup.bucket_of(job.duration_ms)
            buckets[(hour, job.slot_id, job.source, job.provider, bucket)] += 1
    return +counts, +buckets


async def stored(session: AsyncSession, *, daily: bool = False) -> Rollups:
    """The hourly rollups as stored, or the daily ones."""
    counts: Counter[tuple[Any, ...]] = Counter()
    table: Any = JobStatDaily if daily else JobStatHourly
    for row in (await session.execute(select(table))).scalars():
        moment = row.day if daily else row.hour
        key = (moment, row.slot_id, row.source, row.provider, row.status, row.failure_reason)
        counts[(*key, "jobs")] += row.jobs
        counts[(*key, "ms")] += row.duration_ms_sum
    buckets: Counter[tuple[Any, ...]] = Counter()
    durations: Any = JobStatDailyDuration if daily else JobStatHourlyDuration
    for d in (await session.execute(select(durations))).scalars():
        moment = d.day if daily else d.hour
        buckets[(moment, d.slot_id, d.source, d.provider, d.bucket)] += d.jobs
    return +counts, +buckets


async def stored_overall(session: AsyncSession, *, daily: bool) -> Counter[tuple[Any, ...]]:
    """The all-slot duration rollup (hourly or daily) as stored."""
    table: Any = JobStatDailyDurationAll if daily else JobStatHourlyDurationAll
    buckets: Counter[tuple[Any, ...]] = Counter()
    for d in (await session.execute(select(table))).scalars():
        buckets[(d.day if daily else d.hour, d.source, d.provider, d.bucket)] += d.jobs
    return +buckets


def without_slot(buckets: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    summed: Counter[tuple[Any, ...]] = Counter()
    for (moment, _slot, *rest), n in buckets.items():
        summed[(moment, *rest)] += n
    return summed


async def assert_rollups_match(maker: async_sessionmaker[AsyncSession]) -> None:
    """Hourly and daily rollups, per slot and over all slots, equal a recount of the job rows."""
    async with maker() as session:
        jobs = list((await session.execute(select(Job))).scalars())
        for daily, grain in ((False, hour_of), (True, day_of)):
            counts, buckets = recount(jobs, grain)
            assert await stored(session, daily=daily) == (counts, buckets)
            assert await stored_overall(session, daily=daily) == without_slot(buckets)


def assert_within_bound(estimate: float | None, exact: float | None) -> None:
    assert (estimate is None) == (exact is None)
    if estimate is not None and exact is not None:
        bound = max(rollup.RELATIVE_ERROR * exact, rollup.ABSOLUTE_ERROR_MS) + 0.1  # + the 0.1 ms rounding
        assert abs(estimate - exact) <= bound, (estimate, exact, bound)


def _pending(
    n: int, created_at: datetime, *, slot: str = "slot-001", source: str = "ingest"
) -> dict[str, Any]:
    return {
        "id": f"job-{n:05d}",
        "slot_id": slot,
        "source": source,
        "provider": "local" if slot == "slot-001" else "gemini",
        "operation": "edit",
        "booth_meta": {},
        "sha256": "0" * 64,
        "input_size": 1,
        "input_type": "image/jpeg",
        "owner": "worker-a" if n % 7 else "worker-gone",
        "created_at": created_at,
    }


# 10 hours of jobs before NOW, every 7 minutes, each ended by `ingest.ending.finish` (the path every
# request takes) with a mix of outcomes and durations from 20 ms to 200 s; the owner "worker-gone" jobs are
# ended by `interrupt_owned` (graceful shutdown) and job 1 stays pending.
async def _scripted_jobs(maker: async_sessionmaker[AsyncSession]) -> None:
    durations = [20, 49, 50, 120, 800, 1500, 2600, 4100, 9000, 17_000, 45_000, 119_000, 200_000]
    outcomes = [
        (JobStatus.done, None),
        (JobStatus.done, None),
        (JobStatus.failed, "provider_refused"),
        (JobStatus.timeout, "T_sync_response_exceeded"),
        (JobStatus.done, None),
        (JobStatus.failed, "provider_error"),
    ]
    async with maker() as session, session.begin():
        for n in range(86):
            created = NOW - timedelta(minutes=7 * n + 1)
            slot = "slot-001" if n % 3 else "slot-002"
            await ingest_repository.insert_pending(
                session, **_pending(n, created, slot=slot, source="ui_test" if n % 11 == 0 else "ingest")
            )
    async with maker() as session, session.begin():
        for n in range(2, 86):
            if n % 7 == 0:
                continue
            status, reason = outcomes[n % len(outcomes)]
            moved = await ending.finish(
                session,
                f"job-{n:05d}",
                status=status,
                failure_reason=reason,
                duration_ms=durations[n % len(durations)],
                finished_at=NOW,
            )
            assert moved
        # A job that is no longer pending is not counted twice.
        assert not await ending.finish(session, "job-00002", status=JobStatus.failed)
        assert await ending.interrupt_owned(session, "worker-gone", now=NOW) == 13


async def test_every_path_that_ends_a_job_keeps_the_rollups_equal_to_a_recount(app: FastAPI) -> None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    await _scripted_jobs(maker)
    await assert_rollups_match(maker)
    async with maker() as session:
        pending = await session.scalar(select(Job).where(Job.status == JobStatus.pending).limit(1))
    assert pending is not None


async def test_admin_job_counts_are_a_count_of_the_rows(app: FastAPI) -> None:
    """`/api/admin/stats` reads all-time counts from the daily rollup plus the pending rows."""
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    await _scripted_jobs(maker)
    async with maker() as session:
        rows = (await session.execute(select(Job.status, func.count()).group_by(Job.status))).all()
        admin = await service.admin_stats(session)
    expected = {status.value: 0 for status in JobStatus} | {str(s): n for s, n in rows}
    assert admin.jobs == {**expected, "total": 86}
    assert min(expected["pending"], expected["done"], expected["failed"], expected["timeout"]) >= 1


@pytest.mark.parametrize(
    ("now", "window"),
    [
        (NOW, "3h"),
        (NOW, "5h"),
        (NOW, "24h"),
        (NOW, "7d"),
        (NOW.replace(minute=0), "4h"),
        (NOW - timedelta(minutes=95), "190m"),
        (NOW - timedelta(hours=2, minutes=1), "7h"),
        # Whole UTC days inside the window: the jobs come from the daily rollups.
        (NOW + timedelta(days=1), "7d"),
        (NOW + timedelta(days=2, hours=3), "3d"),
    ],
)
async def test_windows_with_partial_hours_count_exactly_and_bound_the_percentiles(
    app: FastAPI, now: datetime, window: str
) -> None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    await _scripted_jobs(maker)
    since = now - service.parse_window(window)
    assert now - since > service.EXACT_WINDOW
    async with maker() as session:
        rolled = await service.overview(session, window=window, now=now)
        exact_counts = await repository.counts(session, since, now, None)
        exact_pct = {
            (p.source, p.provider): p for p in await repository.percentiles(session, since, now, None)
        }
        slot = await service.slot_stats(session, "slot-002", window=window, now=now)
        exact_slot = await repository.counts(session, since, now, "slot-002")

    def totals(rows: list[repository.CountRow]) -> Counter[tuple[Any, ...]]:
        out: Counter[tuple[Any, ...]] = Counter()
        for r in rows:
            out[(r.source, r.provider, r.status, r.failure_reason)] += r.count
        return out

    assert sum(r.count for r in exact_counts) > 0
    booth = rolled.booth
    want = totals(exact_counts)
    assert booth.total == sum(n for k, n in want.items() if k[0] == "ingest")
    assert booth.pending == sum(n for k, n in want.items() if k[0] == "ingest" and k[2] == "pending")
    assert booth.done == sum(n for k, n in want.items() if k[0] == "ingest" and k[2] == "done")
    reasons: Counter[str] = Counter()
    for (source, _provider, status, reason), n in want.items():
        if source == "ingest" and status in repository.FAILED_STATUSES and reason:
            reasons[reason] += n
    assert booth.failure_reasons == dict(reasons)
    assert {s.slot_id: s.total for s in rolled.slots} == {
        slot_id: sum(r.count for r in exact_counts if r.slot_id == slot_id and r.source == "ingest")
        for slot_id in {r.slot_id for r in exact_counts if r.source == "ingest"}
    }
    assert (slot.booth.total, slot.ui_test.total) == (
        sum(r.count for r in exact_slot if r.source == "ingest"),
        sum(r.count for r in exact_slot if r.source == "ui_test"),
    )
    assert_within_bound(booth.p50_ms, exact_pct[("ingest", None)].p50)
    assert_within_bound(booth.p95_ms, exact_pct[("ingest", None)].p95)
    for provider in booth.providers:
        assert_within_bound(provider.p50_ms, exact_pct[("ingest", provider.provider)].p50)
        assert_within_bound(provider.p95_ms, exact_pct[("ingest", provider.provider)].p95)


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {"gemini_api_key": GeminiFake.api_key, "gemini_base_url": gemini_server.url}


@pytest.mark.slow
async def test_real_uploads_keep_the_rollups_equal_to_a_recount(
    app: FastAPI, client: httpx.AsyncClient, gemini_fake: GeminiFake, ingest_password: str
) -> None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    await configure_slot(
        maker, "slot-005", provider="gemini", operation="edit", settings={"params": {"prompt": "pop"}}
    )
    async with maker() as session, session.begin():
        await settings_service.update(session, {"t_sync_response_seconds": 5}, actor="test")
    gemini_fake.script(
        GeminiFake.image_reply(images.jpeg()),
        gemini_fake.blocked("PROHIBITED_CONTENT"),
        GeminiFake.error(400, "INVALID_ARGUMENT"),
        GeminiFake.image_reply(images.jpeg()),
    )
    statuses = [
        (await upload(client, images.jpeg(), slot="slot-005", id=f"shot-{n}")).status_code for n in range(4)
    ]
    statuses += [(await upload(client, images.jpeg(), id=f"local-{n}")).status_code for n in range(3)]
    statuses.append((await upload(client, images.jpeg(), password="wrong-password-x", id="x")).status_code)
    assert statuses[:2] == [200, 422]
    assert statuses[3:] == [200, 200, 200, 200, 401]
    await assert_rollups_match(maker)
    async with maker() as session:
        later = await service.overview(session, window="24h", now=datetime.now(UTC) + timedelta(hours=3))
        now = await service.overview(session, window="60m", now=datetime.now(UTC) + timedelta(seconds=1))
    # The 24h window three hours on reads the rollup only; the 60m one reads the rows.
    assert (later.booth.total, later.booth.done, later.booth.failed) == (7, 5, 2)
    assert later.booth.model_dump(exclude={"p50_ms", "p95_ms", "providers"}) == now.booth.model_dump(
        exclude={"p50_ms", "p95_ms", "providers"}
    )
    assert_within_bound(later.booth.p50_ms, now.booth.p50_ms)
    assert_within_bound(later.booth.p95_ms, now.booth.p95_ms)


@pytest.fixture
async def empty_database_url(db_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[str]:
    url = await db_factory.create(tmp_path, migrated=False)
    yield url
    await db_factory.drop(url)


async def test_the_migration_backfills_the_rollups_from_existing_jobs(empty_database_url: str) -> None:
    await anyio.to_thread.run_sync(migrations.upgrade, empty_database_url, "0005")
    engine = create_engine(empty_database_url)
    try:
        maker = async_sessionmaker(engine, expire_on_commit=False)
        async with maker() as session, session.begin():
            rows = []
            for n in range(60):
                values = _pending(
                    n, NOW - timedelta(minutes=37 * n, seconds=n), slot="slot-001" if n % 2 else "slot-002"
                )
                values.pop("owner")
                status = [JobStatus.done, JobStatus.failed, JobStatus.timeout, JobStatus.pending][n % 4]
                rows.append(
                    {
                        **values,
                        "status": status,
                        "mode": "sync",
                        "failure_reason": "provider_error" if status == JobStatus.failed else None,
                        "duration_ms": None if n % 5 == 0 else 37 * n * n + 10,
                    }
                )
            await session.execute(insert(Job).values(rows))
        await anyio.to_thread.run_sync(migrations.upgrade, empty_database_url, "head")
        await assert_rollups_match(maker)
        async with maker() as session:
            assert sum((await stored(session))[0].values()) > 0
    finally:
        await engine.dispose()


async def test_ending_a_job_is_one_round_trip_on_postgresql(app: FastAPI) -> None:
    """The job's UPDATE and its six rollup upserts go as one statement (SQLite, in process, runs seven)."""
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session, session.begin():
        await ingest_repository.insert_pending(session, **_pending(3, NOW - timedelta(minutes=5)))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        async with maker() as session, session.begin():
            moved = await ending.finish(
                session, "job-00003", status=JobStatus.done, duration_ms=1234, finished_at=NOW
            )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert moved
    finishing = [s for s in statements if s.lstrip().upper().startswith(("WITH", "UPDATE", "INSERT"))]
    expected = 1 if engine.dialect.name == "postgresql" else 7
    assert len(finishing) == expected, finishing
    await assert_rollups_match(maker)
    async with maker() as session:
        daily = (
            await session.execute(select(JobStatDailyDurationAll.bucket, JobStatDailyDurationAll.jobs))
        ).all()
    assert [tuple(row) for row in daily] == [(rollup.bucket_of(1234), 1)]
