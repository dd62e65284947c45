"""The hourly and daily job rollups: written in the transaction that ends a job, rebuilt from raw rows by
the migrations (and the benchmark), and the log-spaced duration buckets percentiles are estimated from.

Both levels hold the same numbers at a different grain (UTC hours, UTC days), so a window reads whole days
from the daily tables, the whole hours around them from the hourly ones, and raw rows only at its edges.

Buckets: 0 is [0, 50 ms); bucket i (1..N) is [BOUNDS[i-1], BOUNDS[i]) with BOUNDS[i] = floor(1.1 x
BOUNDS[i-1]) from 50 ms to past 180 s, so every bucket's upper bound is at most 1.1 x its lower bound;
bucket N+1 holds everything from BOUNDS[-1] (about 183 s) up. A percentile estimated by spreading each
bucket's jobs evenly over its width is within 10 % of the exact (interpolated) value, or within 50 ms below
50 ms; above the last bound it is reported as that bound.
"""

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import day_of, hour_of
from photochanger.models import (
    JobStatDaily,
    JobStatDailyDuration,
    JobStatDailyDurationAll,
    JobStatHourly,
    JobStatHourlyDuration,
    JobStatHourlyDurationAll,
)


def _bounds() -> tuple[int, ...]:
    out = [50]
    while out[-1] < 180_000:
        out.append(out[-1] * 11 // 10)
    return tuple(out)


ROLLUP_MODELS: tuple[Any, ...] = (
    JobStatHourly,
    JobStatHourlyDuration,
    JobStatHourlyDurationAll,
    JobStatDaily,
    JobStatDailyDuration,
    JobStatDailyDurationAll,
)
TABLES: tuple[str, ...] = tuple(model.__tablename__ for model in ROLLUP_MODELS)
BOUNDS = _bounds()
OVERFLOW = len(BOUNDS)
# Relative error bound of a percentile estimated from the buckets, and the absolute one below BOUNDS[0].
RELATIVE_ERROR = max(hi / lo - 1 for lo, hi in pairwise(BOUNDS))
ABSOLUTE_ERROR_MS = BOUNDS[0]


@dataclass(frozen=True)
class FinishedJob:
    """What the rollup needs of a job that has just left `pending`."""

    slot_id: str
    source: str
    provider: str
    status: str
    failure_reason: str | None
    created_at: datetime
    duration_ms: int | None


def bucket_of(duration_ms: int) -> int:
    """The first bucket whose upper bound is above `duration_ms` (`OVERFLOW` past the last bound)."""
    return bisect_right(BOUNDS, duration_ms)


def bucket_expression(duration: Any, dialect: str) -> ColumnElement[int]:
    """`bucket_of` in SQL: PostgreSQL's `width_bucket` over the bounds (a binary search), elsewhere a
    CASE over them."""
    if dialect == "postgresql":
        bounds: ColumnElement[Any] = literal_column("'{" + ",".join(map(str, BOUNDS)) + "}'::integer[]")
        return func.width_bucket(duration, bounds)
    return case(*((duration < bound, index) for index, bound in enumerate(BOUNDS)), else_=OVERFLOW)


def bucket_range(bucket: int) -> tuple[float, float]:
    if bucket == 0:
        return 0.0, float(BOUNDS[0])
    if bucket >= OVERFLOW:
        return float(BOUNDS[-1]), float(BOUNDS[-1])
    return float(BOUNDS[bucket - 1]), float(BOUNDS[bucket])


def percentile(histogram: dict[int, int], p: float) -> float | None:
    """The p-quantile like `percentile_cont` (interpolated between ranks), each rank's value taken as if the
    jobs of its bucket were spread evenly over the bucket's width."""
    n = sum(histogram.values())
    if n == 0:
        return None
    position = p * (n - 1)
    low = int(position)
    ranks = _rank_values(histogram, (low, min(low + 1, n - 1)))
    return ranks[0] + (ranks[1] - ranks[0]) * (position - low)


def _rank_values(histogram: dict[int, int], ranks: tuple[int, int]) -> list[float]:
    out: list[float] = []
    for rank in ranks:
        seen = 0
        for bucket in sorted(histogram):
            count = histogram[bucket]
            if count <= 0:
                continue
            if rank < seen + count:
                lo, hi = bucket_range(bucket)
                out.append(lo + (hi - lo) * (rank - seen + 0.5) / count)
                break
            seen += count
    return out


def _utc_trunc(grain: str, moment: Any) -> ColumnElement[Any]:
    """`hour_of` / `day_of` in PostgreSQL: truncated in UTC whatever the session's time zone."""
    return func.timezone("UTC", func.date_trunc(grain, func.timezone("UTC", moment)))


def _upsert_from(model: Any, keys: tuple[str, ...], amounts: tuple[str, ...], rows: Any) -> Any:
    table = model.__table__
    stmt = postgresql.insert(table).from_select([*keys, *amounts], rows)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + stmt.excluded[name] for name in amounts}
    )


def moved_and_recorded(moved: Any) -> Any:
    """PostgreSQL: one statement that runs `moved` (an UPDATE of jobs leaving `pending`, RETURNING the
    fields of `FinishedJob`) and adds what it moved to the six rollups, answering how many jobs it moved and
    the slot of one of them (for the live-update notification).
    What `record_finished` does in seven statements, in one round trip; each upsert reads the UPDATE's own
    output, so a job is counted exactly when it moved. One job at a time (an upsert cannot touch a row
    twice): `interrupt_owned` and recovery use `record_finished`."""
    done = moved.cte("moved")
    c = done.c
    reason = func.coalesce(c.failure_reason, "").label("failure_reason")
    bucket = bucket_expression(c.duration_ms, "postgresql").label("bucket")
    one = func.count().label("jobs")
    timed = c.duration_ms.is_not(None)
    upserts: list[Any] = []
    for grain, counts, durations, overall in (
        ("hour", JobStatHourly, JobStatHourlyDuration, JobStatHourlyDurationAll),
        ("day", JobStatDaily, JobStatDailyDuration, JobStatDailyDurationAll),
    ):
        at = _utc_trunc(grain, c.created_at).label(grain)
        keys = (grain, "slot_id", "source", "provider")
        summed = func.coalesce(func.sum(c.duration_ms), 0).label("duration_ms_sum")
        rows = select(at, c.slot_id, c.source, c.provider, c.status, reason, one, summed)
        upserts.append(
            _upsert_from(counts, (*keys, "status", "failure_reason"), ("jobs", "duration_ms_sum"),
                         rows.group_by(at, c.slot_id, c.source, c.provider, c.status, reason))
        )  # fmt: skip
        rows = select(at, c.slot_id, c.source, c.provider, bucket, one).where(timed)
        upserts.append(
            _upsert_from(durations, (*keys, "bucket"), ("jobs",),
                         rows.group_by(at, c.slot_id, c.source, c.provider, bucket))
        )  # fmt: skip
        rows = select(at, c.source, c.provider, bucket, one).where(timed)
        upserts.append(
            _upsert_from(overall, (grain, "source", "provider", "bucket"), ("jobs",),
                         rows.group_by(at, c.source, c.provider, bucket))
        )  # fmt: skip
    # PostgreSQL runs every data-modifying WITH to completion, read or not; `add_cte` renders them.
    return (
        select(func.count(), func.min(c.slot_id))
        .select_from(done)
        .add_cte(*(upsert.cte(f"rollup_{n}") for n, upsert in enumerate(upserts)))
    )


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def record_finished(session: AsyncSession, jobs: Iterable[FinishedJob]) -> None:
    """Add jobs that have just left `pending` to the rollups: six upserts at most (counts, duration buckets
    per slot and over all slots; hourly and daily). Call it in the transaction that moved them, so a job is
    counted exactly when its terminal state is committed."""
    counts: dict[tuple[Any, ...], list[int]] = {}
    buckets: dict[tuple[Any, ...], int] = {}
    for job in jobs:
        hour = hour_of(job.created_at)
        key = (hour, job.slot_id, job.source, job.provider, job.status, job.failure_reason or "")
        entry = counts.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += job.duration_ms or 0
        if job.duration_ms is not None:
            bucket_key = (hour, job.slot_id, job.source, job.provider, bucket_of(job.duration_ms))
            buckets[bucket_key] = buckets.get(bucket_key, 0) + 1
    if not counts:
        return
    keys = ("slot_id", "source", "provider", "status", "failure_reason")
    bucket_keys = ("slot_id", "source", "provider", "bucket")
    for time_key, table, durations, overall in (
        ("hour", JobStatHourly, JobStatHourlyDuration, JobStatHourlyDurationAll),
        ("day", JobStatDaily, JobStatDailyDuration, JobStatDailyDurationAll),
    ):
        grain = hour_of if time_key == "hour" else day_of
        level: dict[tuple[Any, ...], tuple[int, ...]] = {}
        for (moment, *rest), (n, total) in counts.items():
            key = (grain(moment), *rest)
            before = level.get(key, (0, 0))
            level[key] = (before[0] + n, before[1] + total)
        await _add(session, table, (time_key, *keys), ("jobs", "duration_ms_sum"), level)
        if not buckets:
            continue
        level_buckets: dict[tuple[Any, ...], tuple[int, ...]] = {}
        summed: dict[tuple[Any, ...], tuple[int, ...]] = {}
        for (moment, slot, *rest), n in buckets.items():
            for out, key in ((level_buckets, (grain(moment), slot, *rest)), (summed, (grain(moment), *rest))):
                out[key] = (out.get(key, (0,))[0] + n,)
        await _add(session, durations, (time_key, *bucket_keys), ("jobs",), level_buckets)
        await _add(session, overall, (time_key, *bucket_keys[1:]), ("jobs",), summed)


async def _add(
    session: AsyncSession,
    model: Any,
    keys: tuple[str, ...],
    amounts: tuple[str, ...],
    rows: dict[tuple[Any, ...], tuple[int, ...]],
) -> None:
    """Upsert `rows` (key values -> amounts) into `model`, adding the amounts to a row that exists. The
    statement is the same for every call and its values go apart, so it is compiled once and cached."""
    table = model.__table__
    stmt = _insert(session)(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + stmt.excluded[name] for name in amounts}
    )
    params = [dict(zip((*keys, *amounts), (*key, *values), strict=True)) for key, values in rows.items()]
    await session.execute(stmt, params)


def rebuild_statements(dialect: str, *, daily: bool = True) -> Sequence[str]:
    """SQL that empties the rollups and recomputes them from the `job` table (migration backfill, bulk
    loads): the hourly ones from the rows, the daily and all-slot ones (unless `daily` is False, for the
    migration that predates them) from the hourly ones. Plain SQL so a migration can run it without the ORM."""
    if dialect == "postgresql":
        hour = "date_trunc('hour', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    else:
        # SQLAlchemy's SQLite DATETIME text format, in UTC.
        hour = "strftime('%Y-%m-%d %H:00:00.000000', created_at)"
    bucket = "CASE " + " ".join(f"WHEN duration_ms < {b} THEN {i}" for i, b in enumerate(BOUNDS))
    bucket += f" ELSE {OVERFLOW} END"
    counts = (
        "INSERT INTO job_stat_hourly (hour, slot_id, source, provider, status, failure_reason, jobs, "
        "duration_ms_sum) SELECT {hour} AS h, slot_id, source, provider, status, "
        "COALESCE(failure_reason, '') AS r, count(*), COALESCE(sum(duration_ms), 0) FROM job "
        "WHERE status <> 'pending' GROUP BY h, slot_id, source, provider, status, r"
    )
    durations = (
        "INSERT INTO job_stat_hourly_duration (hour, slot_id, source, provider, bucket, jobs) "
        "SELECT {hour} AS h, slot_id, source, provider, {bucket} AS b, count(*) FROM job "
        "WHERE status <> 'pending' AND duration_ms IS NOT NULL GROUP BY h, slot_id, source, provider, b"
    )
    hourly = (
        "DELETE FROM job_stat_hourly",
        "DELETE FROM job_stat_hourly_duration",
        counts.format(hour=hour),
        durations.format(hour=hour, bucket=bucket),
    )
    if not daily:
        return hourly
    return [*hourly, *rebuild_daily_statements(dialect), *rebuild_overall_statements()]


def rebuild_daily_statements(dialect: str) -> Sequence[str]:
    """SQL that empties the daily rollups and sums them up from the hourly ones."""
    if dialect == "postgresql":
        day = "date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    else:
        day = "substr(hour, 1, 10) || ' 00:00:00.000000'"
    counts = (
        "INSERT INTO job_stat_daily (day, slot_id, source, provider, status, failure_reason, jobs, "
        "duration_ms_sum) SELECT {day} AS d, slot_id, source, provider, status, failure_reason, "
        "sum(jobs), sum(duration_ms_sum) FROM job_stat_hourly "
        "GROUP BY d, slot_id, source, provider, status, failure_reason"
    )
    durations = (
        "INSERT INTO job_stat_daily_duration (day, slot_id, source, provider, bucket, jobs) "
        "SELECT {day} AS d, slot_id, source, provider, bucket, sum(jobs) FROM job_stat_hourly_duration "
        "GROUP BY d, slot_id, source, provider, bucket"
    )
    return (
        "DELETE FROM job_stat_daily",
        "DELETE FROM job_stat_daily_duration",
        counts.format(day=day),
        durations.format(day=day),
    )


def rebuild_overall_statements() -> Sequence[str]:
    """SQL that empties the all-slot duration rollups and sums them up from the per-slot ones."""
    return (
        "DELETE FROM job_stat_hourly_duration_all",
        "DELETE FROM job_stat_daily_duration_all",
        "INSERT INTO job_stat_hourly_duration_all (hour, source, provider, bucket, jobs) "
        "SELECT hour, source, provider, bucket, sum(jobs) FROM job_stat_hourly_duration "
        "GROUP BY hour, source, provider, bucket",
        "INSERT INTO job_stat_daily_duration_all (day, source, provider, bucket, jobs) "
        "SELECT day, source, provider, bucket, sum(jobs) FROM job_stat_daily_duration "
        "GROUP BY day, source, provider, bucket",
    )
