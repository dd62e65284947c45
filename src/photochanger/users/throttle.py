"""Password-guess throttling for login and change-password, shared by every worker through `login_attempt`.

Three limits, all over a sliding 15-minute window:

- one username from one client: 10 failures lock that pair for 15 minutes (the real admin elsewhere is
  unaffected);
- one client across usernames: 30 failures lock that client for 15 minutes;
- one account across every client: at most 20 failures per window. Past that every client waits for the
  oldest failure to age out (a slowdown measured in minutes, never a permanent lockout), except clients
  that logged in to this account successfully within the last 7 days, so the real admin still gets in from
  their usual place while thousands of addresses guess.

Clients are keyed by `core.clients.client_key` (an IPv6 client by its /64). Check and record are one
step: `reserve` records the attempt as a failure before the password is evaluated, under a lock that
serialises reservations across processes (PostgreSQL: a transaction-level advisory lock; SQLite: the
database write lock the insert takes), so N concurrent guesses can never all pass the same check.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import utcnow
from photochanger.models import LoginAttempt
from photochanger.users.exceptions import TooManyLoginAttempts
from photochanger.users.repository import LoginAttemptRepository

logger = logging.getLogger(__name__)

THROTTLE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
USER_CLIENT_FAILURE_LIMIT = 10
CLIENT_FAILURE_LIMIT = 30
ACCOUNT_FAILURE_LIMIT = 20
KNOWN_CLIENT_TTL = timedelta(days=7)
ATTEMPT_RETENTION = KNOWN_CLIENT_TTL
_ATTEMPT_SCAN_LIMIT = 500
# pg_advisory_xact_lock key of the reservation step ("PCLG"); held for a few milliseconds per attempt.
_PG_LOCK_KEY = 0x50434C47


def _locked_until(
    attempts_newest_first: list[tuple[datetime, bool]], *, limit: int, reset_on_success: bool
) -> datetime | None:
    """When the lockout these attempts triggered ends, or None. Refused (throttled) attempts are never
    recorded, so a lockout cannot extend itself."""
    failures: list[datetime] = []
    until: datetime | None = None
    for at, succeeded in reversed(attempts_newest_first):
        if succeeded:
            if reset_on_success:
                failures.clear()
            continue
        if until is not None and at < until:
            continue
        failures.append(at)
        failures = [f for f in failures if f > at - THROTTLE_WINDOW]
        if len(failures) >= limit:
            until = at + LOCKOUT
            failures.clear()
    return until


def _account_slot_opens(failures_newest_first: list[datetime], *, now: datetime) -> datetime | None:
    """With `ACCOUNT_FAILURE_LIMIT` failures inside the window, the next guess may come when the oldest of
    them leaves it; None when there is room now."""
    recent = [at for at in failures_newest_first if at > now - THROTTLE_WINDOW]
    if len(recent) < ACCOUNT_FAILURE_LIMIT:
        return None
    return recent[ACCOUNT_FAILURE_LIMIT - 1] + THROTTLE_WINDOW


async def check(
    session: AsyncSession, *, username: str, client: str, now: datetime, exclude_id: int | None = None
) -> None:
    """Raise `TooManyLoginAttempts` (429, `Retry-After`) when any of the three limits refuses this attempt.
    `exclude_id` leaves the caller's own reservation out of the count."""
    repo = LoginAttemptRepository(session)
    since = now - THROTTLE_WINDOW - LOCKOUT
    limit = _ATTEMPT_SCAN_LIMIT
    pair = await repo.recent(client=client, username=username, since=since, limit=limit, exclude=exclude_id)
    whole = await repo.recent(client=client, username=None, since=since, limit=limit, exclude=exclude_id)
    ends = [
        _locked_until(list(pair), limit=USER_CLIENT_FAILURE_LIMIT, reset_on_success=True),
        _locked_until(list(whole), limit=CLIENT_FAILURE_LIMIT, reset_on_success=False),
    ]
    account = await repo.recent_failures(
        username=username, since=now - THROTTLE_WINDOW, limit=ACCOUNT_FAILURE_LIMIT, exclude=exclude_id
    )
    opens = _account_slot_opens(list(account), now=now)
    if opens is not None and not await repo.succeeded_since(
        username=username, client=client, since=now - KNOWN_CLIENT_TTL
    ):
        ends.append(opens)
    live = [end for end in ends if end is not None and end > now]
    if live:
        retry_after = max(1, int((max(live) - now).total_seconds() + 0.999))
        logger.warning(
            "login throttled", extra={"username": username, "client": client, "retry_after": retry_after}
        )
        raise TooManyLoginAttempts(retry_after)


async def reserve(session: AsyncSession, *, username: str, client: str, now: datetime) -> int:
    """Check the limits and record this attempt as a failure, atomically, and commit: the request's unit of
    work may roll back later, the attempt must stay. Call it before anything is written in `session` (it
    refuses otherwise; what was read stays loaded). Returns the attempt's id for `mark_succeeded`. Raises
    `TooManyLoginAttempts`; a refused attempt is not recorded."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("reserve() commits: call it before the unit of work changes anything")
    # One connection per request: a second session here would deadlock a full pool. Ending the read
    # transaction first lets the lock below (or SQLite's write lock) start a fresh one.
    await session.commit()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    # On SQLite this insert comes first so that its write lock, held to the commit, covers the check.
    attempt = LoginAttempt(username=username, client=client, succeeded=False, created_at=now)
    session.add(attempt)
    await session.flush()
    try:
        await check(session, username=username, client=client, now=now, exclude_id=attempt.id)
    except TooManyLoginAttempts:
        await session.delete(attempt)
        await session.commit()
        raise
    await session.commit()
    return attempt.id


async def mark_succeeded(session: AsyncSession, attempt_id: int) -> None:
    """Turn a reservation into a success, in the caller's unit of work (flushed, not committed)."""
    await LoginAttemptRepository(session).mark_succeeded(attempt_id)


async def purge_login_attempts(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Drop attempts older than the retention window (for the cleanup job)."""
    return await LoginAttemptRepository(session).purge_before((now or utcnow()) - ATTEMPT_RETENTION)
