"""The stats queries: a fixed handful per request whatever the number of slots, on indexed columns.

Short windows read the `job` rows and are exact. Longer ones read the daily rollups for the whole UTC days
inside the window, the hourly ones for the whole hours around them, and the `job` rows only for the partial
hours at either end (and for jobs still pending, which the rollups do not hold yet). Raw rows are read as
bare tuples from the covering indexes `ix_job_stats` / `ix_job_slot_id_stats` (index-only scans) in one
statement, and counted in Python: an hour is a few thousand rows at most.

`counts` and `percentiles` compute the same numbers entirely in SQL: the exact reference the tests compare
the rollups against.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import day_of, hour_of
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
from photochanger.stats import rollup

PERCENTILES = (0.5, 0.95)
FAILED_STATUSES = (JobStatus.failed.value, JobStatus.timeout.value)


@dataclass(frozen=True)
class CountRow:
    slot_id: str
    source: str
    provider: str
    status: str
    failure_reason: str | None
    count: int


@dataclass(frozen=True)
class PercentileRow:
    """p50/p95 in ms of finished jobs for one source, and one provider (None: all providers)."""

    source: str
    provider: str | None
    p50: float | None
    p95: float | None


def _window(since: datetime, until: datetime, slot_id: str | None) -> list[ColumnElement[bool]]:
    where = [Job.created_at >= since, Job.created_at < until]
    if slot_id is not None:
        where.append(Job.slot_id == slot_id)
    return where


async def counts(
    session: AsyncSession, since: datetime, until: datetime, slot_id: str | None
) -> list[CountRow]:
    """Jobs by slot and outcome, from the `job` rows."""
    query = _count_jobs(_window(since, until, slot_id))
    return [CountRow(*row) for row in (await session.execute(query)).all()]


def _count_jobs(where: list[ColumnElement[bool]]) -> Select[str, str, str, str, str | None, int]:
    return (
        select(Job.slot_id, Job.source, Job.provider, Job.status, Job.failure_reason, func.count())
        .where(*where)
        .group_by(Job.slot_id, Job.source, Job.provider, Job.status, Job.failure_reason)
    )


@dataclass(frozen=True)
class Span:
    """A window cut into the parts each source answers for: `raw` ranges read from `job` rows, `hours`
    ranges from the hourly rollups, `days` from the daily ones; `rolled` spans the rolled-up part (whose
    pending jobs are still read from `job`). Ranges are half-open [start, end)."""

    raw: tuple[tuple[datetime, datetime], ...]
    hours: tuple[tuple[datetime, datetime], ...] = ()
    days: tuple[tuple[datetime, datetime], ...] = ()
    rolled: tuple[datetime, datetime] | None = None

    @classmethod
    def of(cls, since: datetime, until: datetime, *, exact: bool) -> "Span":
        first_hour = _ceil(since, hour_of, timedelta(hours=1))
        end_hour = hour_of(until)
        if exact or first_hour >= end_hour:
            return cls(raw=((since, until),))
        first_day = _ceil(first_hour, day_of, timedelta(days=1))
        end_day = day_of(end_hour)
        if first_day < end_day:
            hours, days = [(first_hour, first_day), (end_day, end_hour)], [(first_day, end_day)]
        else:
            hours, days = [(first_hour, end_hour)], []
        return cls(
            raw=_nonempty([(since, first_hour), (end_hour, until)]),
            hours=_nonempty(hours),
            days=_nonempty(days),
            rolled=(first_hour, end_hour),
        )


def _ceil(moment: datetime, floor: Any, step: timedelta) -> datetime:
    floored: datetime = floor(moment)
    return floored if floored == moment else floored + step


def _nonempty(ranges: list[tuple[datetime, datetime]]) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((start, end) for start, end in ranges if start < end)


def _rolled_up(
    span: Span,
    tables: tuple[Any, Any],
    columns: Any,
    slot_id: str | None,
) -> list[Any]:
    hourly, daily = tables
    parts: list[Any] = []
    for table, time_column, ranges in ((hourly, hourly.hour, span.hours), (daily, daily.day, span.days)):
        for start, end in ranges:
            where = [time_column >= start, time_column < end]
            if slot_id is not None:
                where.append(table.slot_id == slot_id)
            cols = columns(table)
            parts.append(select(*cols, func.sum(table.jobs)).where(*where).group_by(*cols))
    return parts


async def window_counts(session: AsyncSession, span: Span, slot_id: str | None) -> list[CountRow]:
    """Jobs by slot and outcome: the rollups for the span's whole hours and days, `job` rows (from the
    covering index) for its raw ranges and for the rolled-up part's pending jobs. One statement, so one
    snapshot."""
    parts: list[Any] = _rolled_up(
        span,
        (JobStatHourly, JobStatDaily),
        lambda t: (t.slot_id, t.source, t.provider, t.status, t.failure_reason),
        slot_id,
    )
    parts += [_count_jobs(_window(start, end, slot_id)) for start, end in span.raw]
    if span.rolled is not None:
        pending = Job.status == JobStatus.pending.value
        parts.append(_count_jobs([*_window(*span.rolled, slot_id), pending]))
    query: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    rows: list[Any] = list((await session.execute(query)).all())
    return [
        CountRow(slot, source, provider, status, reason or None, int(n))
        for slot, source, provider, status, reason, n in rows
    ]


def _finished() -> list[ColumnElement[bool]]:
    return [Job.status != JobStatus.pending.value, Job.duration_ms.is_not(None)]


async def histograms(
    session: AsyncSession, span: Span, slot_id: str | None
) -> list[tuple[str, str, int, int]]:
    """Finished jobs with a duration by source, provider and duration bucket (`rollup.BOUNDS`): the
    rollups for the span's whole hours and days (the all-slot ones without `slot_id`), `job` rows for its
    raw ranges. One statement."""
    tables: tuple[Any, Any] = (
        (JobStatHourlyDuration, JobStatDailyDuration)
        if slot_id is not None
        else (JobStatHourlyDurationAll, JobStatDailyDurationAll)
    )
    parts: list[Any] = _rolled_up(span, tables, lambda t: (t.source, t.provider, t.bucket), slot_id)
    bucket = rollup.bucket_expression(Job.duration_ms, session.get_bind().dialect.name)
    for start, end in span.raw:
        parts.append(
            select(Job.source, Job.provider, bucket, func.count())
            .where(*_window(start, end, slot_id), *_finished())
            .group_by(Job.source, Job.provider, bucket)
        )
    if not parts:
        return []
    query: Any = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = (await session.execute(query)).all()
    return [(source, provider, int(b), int(n)) for source, provider, b, n in rows]


async def percentiles(
    session: AsyncSession, since: datetime, until: datetime, slot_id: str | None
) -> list[PercentileRow]:
    """Continuous (interpolated) percentiles per source and per source+provider, like `percentile_cont`."""
    where = [*_window(since, until, slot_id), *_finished()]
    if session.get_bind().dialect.name == "postgresql":
        return await _percentiles_postgres(session, where)
    return await _percentiles_portable(session, where)


async def _percentiles_postgres(
    session: AsyncSession, where: list[ColumnElement[bool]]
) -> list[PercentileRow]:
    p50, p95 = (func.percentile_cont(p).within_group(Job.duration_ms) for p in PERCENTILES)
    query = (
        select(Job.source, Job.provider, func.grouping(Job.provider), p50, p95)
        .where(*where)
        .group_by(func.grouping_sets(tuple_(Job.source), tuple_(Job.source, Job.provider)))
    )
    return [
        PercentileRow(source, None if rolled_up else provider, _float(a), _float(b))
        for source, provider, rolled_up, a, b in (await session.execute(query)).all()
    ]


async def _percentiles_portable(
    session: AsyncSession, where: list[ColumnElement[bool]]
) -> list[PercentileRow]:
    """SQLite has no percentile function: read the durations (from the covering index) and interpolate
    in Python, like `percentile_cont`. Only exact windows (a couple of hours) come here."""
    query = select(Job.source, Job.provider, Job.duration_ms).where(*where)
    groups: dict[tuple[str, str | None], list[int]] = {}
    for source, provider, duration in (await session.execute(query)).all():
        if duration is not None:
            groups.setdefault((source, provider), []).append(duration)
            groups.setdefault((source, None), []).append(duration)
    out = []
    for (of_source, of_provider), values in groups.items():
        values.sort()
        out.append(PercentileRow(of_source, of_provider, *(interpolate(values, p) for p in PERCENTILES)))
    return out


def interpolate(ordered: list[int], p: float) -> float | None:
    """The p-quantile of sorted values like `percentile_cont`: interpolated between the ranks either side
    of p x (n - 1)."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


@dataclass(frozen=True)
class Failure:
    job_id: str
    created_at: datetime
    status: str
    failure_reason: str | None
    failure_detail: str | None
    provider: str
    source: str
    duration_ms: int | None


async def recent_failures(
    session: AsyncSession, since: datetime, until: datetime, slot_id: str, limit: int
) -> list[Failure]:
    query = (
        select(
            Job.id,
            Job.created_at,
            Job.status,
            Job.failure_reason,
            Job.failure_detail,
            Job.provider,
            Job.source,
            Job.duration_ms,
        )
        .where(*_window(since, until, slot_id), Job.status.in_(FAILED_STATUSES))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    )
    return [Failure(*row) for row in (await session.execute(query)).all()]


class JobCountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_status(self) -> dict[str, int]:
        """All-time jobs by status: finished ones summed from the daily rollup (kept in the transaction
        that ends a job, so exact), pending ones counted on `ix_job_status_created_at`. One statement
        whose cost follows the number of days, not of jobs."""
        finished = select(JobStatDaily.status, func.sum(JobStatDaily.jobs)).group_by(JobStatDaily.status)
        pending = select(Job.status, func.count()).where(Job.status == JobStatus.pending).group_by(Job.status)
        rows = await self.session.execute(union_all(finished, pending))
        counted: dict[str, int] = {}
        for status, count in rows.all():
            counted[str(status)] = counted.get(str(status), 0) + int(count)
        return counted
