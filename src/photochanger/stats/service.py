"""Stats over a window: totals by outcome, success rate and p50/p95 durations, booth traffic and admin test
runs (`ui_test`) counted apart."""

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.repository import RefreshTokenRepository, UserRepository
from photochanger.core.errors import ValidationFailed
from photochanger.core.time import ensure_utc, utcnow
from photochanger.models import Job, JobSource, JobStatus
from photochanger.slots import service as slots_service
from photochanger.slots.exceptions import SlotNotFound
from photochanger.stats import repository, rollup
from photochanger.stats.schemas import (
    AdminStatsRead,
    FailureRead,
    OverviewRead,
    ProviderStats,
    SlotStatsRead,
    SlotTotals,
    Totals,
    TrafficStats,
    UserStats,
)

MAX_WINDOW = timedelta(days=7)
# Up to this, percentiles are exact (from `job` rows); beyond, estimated from the hourly duration buckets.
EXACT_WINDOW = timedelta(hours=2)
PERCENTILES = (0.5, 0.95)
RECENT_FAILURES = 20
_WINDOW = re.compile(r"^([1-9][0-9]{0,5})([mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}


class InvalidWindow(ValidationFailed):
    code = "invalid_window"
    title = "Invalid stats window"


def parse_window(value: str) -> timedelta:
    """`60m`, `24h`, `7d`: a positive number with a unit, at most 7 days. Raises `InvalidWindow` (422)."""
    match = _WINDOW.match(value.strip())
    if match is None:
        raise InvalidWindow(
            "The window is a number followed by m, h or d, e.g. 60m.",
            errors=[{"loc": ["query", "window"], "field": "window", "msg": "use e.g. 60m, 24h or 7d"}],
        )
    window = int(match.group(1)) * _UNITS[match.group(2)]
    if window > MAX_WINDOW:
        raise InvalidWindow(
            "The window is at most 7 days.",
            errors=[{"loc": ["query", "window"], "field": "window", "msg": "at most 7d"}],
        )
    return window


def _fill(totals: Totals, status: str, n: int) -> None:
    totals.total += n
    if status in (JobStatus.pending, JobStatus.done, JobStatus.failed, JobStatus.timeout):
        setattr(totals, status, getattr(totals, status) + n)
    finished = totals.done + totals.failed + totals.timeout
    totals.success_rate = round(totals.done / finished, 4) if finished else None


async def _traffic(
    session: AsyncSession, since: datetime, until: datetime, slot_id: str | None
) -> tuple[dict[str, TrafficStats], list[repository.CountRow]]:
    """Traffic by source (with its providers), and the count rows it was built from: two statements.
    Windows up to `EXACT_WINDOW` are exact; longer ones take percentiles from the duration buckets
    (`rollup`)."""
    exact = until - since <= EXACT_WINDOW
    span = repository.Span.of(since, until, exact=exact)
    rows = await repository.window_counts(session, span, slot_id)
    traffic = {source.value: TrafficStats() for source in JobSource}
    providers: dict[tuple[str, str], ProviderStats] = {}
    for row in rows:
        stats = traffic.setdefault(row.source, TrafficStats())
        _fill(stats, row.status, row.count)
        key = (row.source, row.provider)
        if key not in providers:
            providers[key] = ProviderStats(provider=row.provider)
            stats.providers.append(providers[key])
        _fill(providers[key], row.status, row.count)
        if row.status in repository.FAILED_STATUSES and row.failure_reason:
            stats.failure_reasons[row.failure_reason] = (
                stats.failure_reasons.get(row.failure_reason, 0) + row.count
            )
    estimates: dict[tuple[str, str | None], tuple[float | None, float | None]] = {}
    if exact:
        for pct in await repository.percentiles(session, since, until, slot_id):
            estimates[(pct.source, pct.provider)] = (pct.p50, pct.p95)
    else:
        hists: dict[tuple[str, str | None], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for source, provider, bucket, n in await repository.histograms(session, span, slot_id):
            hists[(source, provider)][bucket] += n
            hists[(source, None)][bucket] += n
        for group, hist in hists.items():
            estimates[group] = (
                rollup.percentile(hist, PERCENTILES[0]),
                rollup.percentile(hist, PERCENTILES[1]),
            )
    for (of_source, of_provider), (p50, p95) in estimates.items():
        target: Totals | None = (
            traffic.get(of_source) if of_provider is None else providers.get((of_source, of_provider))
        )
        if target is not None:
            target.p50_ms, target.p95_ms = _ms(p50), _ms(p95)
    for stats in traffic.values():
        stats.providers.sort(key=lambda p: (-p.total, p.provider))
    return traffic, rows


def _ms(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


async def overview(session: AsyncSession, *, window: str, now: datetime) -> OverviewRead:
    """Every slot's traffic in the window ending at `now`: 2 queries."""
    until = ensure_utc(now)
    since = until - parse_window(window)
    traffic, rows = await _traffic(session, since, until, None)
    counts: dict[str, Totals] = defaultdict(Totals)
    for row in rows:
        if row.source == JobSource.ingest.value:
            _fill(counts[row.slot_id], row.status, row.count)
    per_slot = [
        SlotTotals(
            slot_id=slot_id,
            total=totals.total,
            done=totals.done,
            failed=totals.failed,
            timeout=totals.timeout,
            success_rate=totals.success_rate,
        )
        for slot_id, totals in counts.items()
    ]
    return OverviewRead(
        window=window,
        since=since,
        until=until,
        booth=traffic[JobSource.ingest.value],
        ui_test=traffic[JobSource.ui_test.value],
        slots=sorted(per_slot, key=lambda s: (-s.total, s.slot_id)),
    )


async def slot_stats(session: AsyncSession, slot_id: str, *, window: str, now: datetime) -> SlotStatsRead:
    """One slot's traffic in the window and its last 20 failures there: 4 queries. Raises `SlotNotFound`."""
    until = ensure_utc(now)
    since = until - parse_window(window)
    if await slots_service.get_config(session, slot_id) is None:
        raise SlotNotFound(f"There is no slot {slot_id!r}.")
    traffic, _rows = await _traffic(session, since, until, slot_id)
    failures = await repository.recent_failures(session, since, until, slot_id, RECENT_FAILURES)
    return SlotStatsRead(
        slot_id=slot_id,
        window=window,
        since=since,
        until=until,
        booth=traffic[JobSource.ingest.value],
        ui_test=traffic[JobSource.ui_test.value],
        recent_failures=[
            FailureRead(
                job_id=failure.job_id,
                created_at=failure.created_at,
                status=failure.status,
                failure_reason=failure.failure_reason,
                failure_detail=failure.failure_detail,
                provider=failure.provider,
                source=failure.source,
                duration_ms=failure.duration_ms,
            )
            for failure in failures
        ],
    )


async def admin_stats(session: AsyncSession, *, now: datetime | None = None) -> AdminStatsRead:
    """Accounts, live sessions and all-time jobs per status (`GET /api/admin/stats`)."""
    now = now or utcnow()
    total, active, admins = await UserRepository(session).stats()
    counted = await repository.JobCountRepository(session).by_status()
    jobs = {status.value: 0 for status in JobStatus} | counted
    jobs["total"] = sum(counted.values())
    return AdminStatsRead(
        users=UserStats(total=total, active=active, admins=admins),
        active_sessions=await RefreshTokenRepository(session).count_live(now=now),
        jobs=jobs,
    )


# --- the rollups, counted in the transaction that ends each job (`ingest.ending`) -------------------------
# What the rollups need of a job leaving `pending` (the fields of `rollup.FinishedJob`, in order): the
# RETURNING list of the UPDATE that ends it.
FINISHED_COLUMNS: tuple[Any, ...] = (
    Job.slot_id,
    Job.source,
    Job.provider,
    Job.status,
    Job.failure_reason,
    Job.created_at,
    Job.duration_ms,
)


def moved_and_counted(moving: Any) -> Any:
    """PostgreSQL: the one statement that runs `moving` (an UPDATE of one job leaving `pending`, RETURNING
    `FINISHED_COLUMNS`) and adds it to the rollups, answering (jobs moved, the slot of one)."""
    return rollup.moved_and_recorded(moving)


async def count_finished(session: AsyncSession, rows: Iterable[Sequence[Any]]) -> None:
    """Add jobs that have just left `pending` (rows of `FINISHED_COLUMNS`) to the rollups."""
    await rollup.record_finished(session, (rollup.FinishedJob(*row) for row in rows))
