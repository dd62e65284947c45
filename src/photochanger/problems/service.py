"""Refused booth uploads and failed jobs: recording a refusal, the per-slot counts and recent-problems list
the dashboard, slot pages and stats show, and the Booths page's view of every booth seen."""

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.notify import JOBS_CHANNEL, notify
from photochanger.models import BoothRefusal, JobSource, JobStatus
from photochanger.problems import repository

# The stable problem code of a wrong ingest password (ingest's `InvalidPassword`); refusals are stored by code,
# and ingest records them here, so this room names the code rather than import ingest back.
WRONG_PASSWORD_CODE = "invalid_password"  # noqa: S105 - a problem code, not a password

logger = logging.getLogger(__name__)

REFUSAL_RETENTION = timedelta(days=30)
DETAIL_CHARS = 300
# A flood of refused uploads (a booth retrying a wrong password in a loop, a scan of random slot ids) must
# not turn into a flood of writes: at most this many rows per second per slot and in total. The Prometheus
# counter `photochanger_ingest_refusals_total` still counts every one.
PER_SLOT_PER_SECOND = 5
TOTAL_PER_SECOND = 20


@dataclass(frozen=True)
class BoothId:
    """How DSLR Remote Pro names itself in every upload: the PC's `name`, the Windows `user_id`, the
    software `version`. Any of them may be missing (another client, or a refusal before the form was read)."""

    name: str | None
    user: str | None
    version: str | None

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> "BoothId":
        def text(key: str, size: int) -> str | None:
            value = fields.get(key)
            if value is None:
                return None
            return str(value).strip()[:size] or None

        return cls(text("name", 120), text("user_id", 120), text("version", 40))

    @property
    def key(self) -> tuple[str, str]:
        return (self.name or "", self.user or "")


class RefusalThrottle:
    """Fixed one-second windows counting rows written, per slot and in total."""

    def __init__(self, per_slot: int = PER_SLOT_PER_SECOND, total: int = TOTAL_PER_SECOND) -> None:
        self.per_slot = per_slot
        self.total = total
        self._window = -1
        self._counts: Counter[str] = Counter()

    def allow(self, slot_id: str, now: float | None = None) -> bool:
        window = int(now if now is not None else time.monotonic())
        if window != self._window:
            self._window = window
            self._counts.clear()
        if self._counts[slot_id] >= self.per_slot or self._counts.total() >= self.total:
            return False
        self._counts[slot_id] += 1
        return True


async def record_refusal(
    session: AsyncSession,
    *,
    slot_id: str,
    code: str,
    status: int,
    detail: str,
    fields: dict[str, Any],
    now: datetime,
) -> None:
    """Store one refused booth upload (never its password) and drop refusals past the retention."""
    booth = BoothId.from_fields(fields)
    await repository.insert_refusal(
        session,
        slot_id=slot_id[:64],
        code=code[:64],
        status=status,
        detail=detail[:DETAIL_CHARS],
        booth_name=booth.name,
        booth_user=booth.user,
        booth_version=booth.version,
        created_at=now,
    )
    await repository.prune_refusals(session, before=now - REFUSAL_RETENTION)
    # Live dashboards follow job notifications on PostgreSQL: a refusal changes the slot's counts too.
    await notify(session, JOBS_CHANNEL, slot_id)


async def refusal_counts(session: AsyncSession, *, since: datetime) -> dict[str, int]:
    """Refused booth uploads per slot id since `since`."""
    return await repository.refusal_counts(session, since=since)


@dataclass
class Problem:
    """One line of a slot's recent-problems list."""

    at: datetime
    kind: str  # failed | timeout | refused
    reason: str
    message: str
    booth: str | None
    job_id: str | None = None
    test: bool = False
    slot_id: str | None = None


def _booth_label(booth: BoothId) -> str | None:
    parts = [p for p in (booth.name, booth.user) if p]
    return " / ".join(parts) or None


async def failed_jobs(session: AsyncSession, slot_id: str, *, limit: int) -> list[Problem]:
    """The slot's latest failed or timed-out jobs (booth shots and test runs), newest first."""
    return [
        Problem(
            at=job.created_at,
            kind=job.status,
            reason=job.failure_reason or job.status,
            message=job.failure_detail or "",
            booth=_booth_label(BoothId.from_fields(job.booth_meta or {})),
            job_id=job.id,
            test=job.source != JobSource.ingest,
        )
        for job in await repository.recent_failed_jobs(session, slot_id=slot_id, limit=limit)
    ]


def _refused(row: BoothRefusal, *, slot_id: str | None = None) -> Problem:
    """A refused upload as a problem line (`slot_id` set where lines of several slots are listed)."""
    return Problem(
        at=row.created_at,
        kind="refused",
        reason=row.code,
        message=row.detail,
        booth=_booth_label(BoothId(row.booth_name, row.booth_user, row.booth_version)),
        slot_id=slot_id,
    )


async def recent_problems(session: AsyncSession, slot_id: str, *, limit: int) -> list[Problem]:
    """The slot's latest failed or timed-out jobs and refused uploads, newest first."""
    problems = await failed_jobs(session, slot_id, limit=limit)
    problems.extend(
        _refused(row) for row in await repository.recent_refusals(session, slot_id=slot_id, limit=limit)
    )
    problems.sort(key=lambda p: p.at, reverse=True)
    return problems[:limit]


async def latest_refusals(session: AsyncSession, *, since: datetime, limit: int) -> list[Problem]:
    """The latest refused uploads of every slot since `since`, newest first (for the stats page)."""
    rows = await repository.recent_refusals(session, since=since, limit=limit)
    return [_refused(row, slot_id=row.slot_id) for row in rows]


@dataclass
class RefusalSummary:
    """Refused booth uploads of a window: counted per slot, the latest listed."""

    per_slot: dict[str, int]
    latest: list[Problem]

    @property
    def total(self) -> int:
        return sum(self.per_slot.values())


async def refusal_summary(session: AsyncSession, *, since: datetime, limit: int) -> RefusalSummary:
    return RefusalSummary(
        per_slot=await repository.refusal_counts(session, since=since),
        latest=await latest_refusals(session, since=since, limit=limit),
    )


@dataclass
class BoothSeen:
    """One booth as the Booths page shows it."""

    name: str | None
    user: str | None
    version: str | None = None
    slots: set[str] = field(default_factory=set)
    last_shot_at: datetime | None = None
    last_result: str | None = None
    shots: int = 0
    wrong_passwords: int = 0
    last_seen_at: datetime | None = None
    silent: bool = False

    def seen(self, at: datetime, version: str | None) -> None:
        if self.last_seen_at is None or at > self.last_seen_at:
            self.last_seen_at = at
            self.version = version or self.version
        elif self.version is None:
            self.version = version


BOOTH_JOBS_SCANNED = 5000
EVENT_HOURS = timedelta(hours=12)


async def booths(
    session: AsyncSession, *, now: datetime, since: datetime, silent_after: timedelta
) -> list[BoothSeen]:
    """Every booth that sent a shot or was refused since `since`, grouped by (`name`, `user_id`), the most
    recently seen first. A booth that has sent nothing for `silent_after`, but did within `EVENT_HOURS`
    (so an event is plausibly still on), is `silent`. Reads at most the latest `BOOTH_JOBS_SCANNED` booth jobs of the window."""
    seen: dict[tuple[str, str], BoothSeen] = {}

    def entry(booth: BoothId) -> BoothSeen:
        return seen.setdefault(booth.key, BoothSeen(name=booth.name, user=booth.user))

    for slot_id, status, reason, created_at, meta in await repository.booth_jobs(
        session, since=since, limit=BOOTH_JOBS_SCANNED
    ):
        booth = BoothId.from_fields(meta or {})
        item = entry(booth)
        item.slots.add(slot_id)
        item.shots += 1
        if item.last_shot_at is None or created_at > item.last_shot_at:
            item.last_shot_at = created_at
            item.last_result = reason if status == JobStatus.failed and reason else status
        item.seen(created_at, booth.version)
    for row in await repository.recent_refusals(session, since=since, limit=BOOTH_JOBS_SCANNED):
        booth = BoothId(row.booth_name, row.booth_user, row.booth_version)
        item = entry(booth)
        if row.code == WRONG_PASSWORD_CODE:
            item.wrong_passwords += 1
        item.slots.add(row.slot_id)
        item.seen(row.created_at, booth.version)
    for item in seen.values():
        quiet = now - item.last_seen_at if item.last_seen_at is not None else None
        item.silent = quiet is not None and silent_after <= quiet < EVENT_HOURS
    return sorted(seen.values(), key=lambda b: b.last_seen_at or since, reverse=True)
