"""PostgreSQL `LISTEN/NOTIFY`: one dedicated connection per process, fanned out to in-process subscribers.

The connection is outside the SQLAlchemy pool (a listening connection must stay open and idle), so no
request ever waits for it, and it is the only one a process keeps for notifications however many dashboard
streams and permit waiters subscribe. When it drops it is re-opened every `reconnect_seconds`; every
subscriber is then called once with an empty payload, because notifications sent meanwhile were lost.
"""

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.tasks import BackgroundTask

logger = logging.getLogger(__name__)

JOBS_CHANNEL = "photochanger_jobs"
PERMITS_CHANNEL = "photochanger_permits"
CHANNELS = (JOBS_CHANNEL, PERMITS_CHANNEL)

Callback = Callable[[str], None]


async def notify(session: AsyncSession, channel: str, payload: str = "") -> None:
    """Queue a notification in the session's transaction (PostgreSQL delivers it at commit; a rollback
    drops it). A no-op on SQLite, whose readers poll."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


def asyncpg_dsn(url: str) -> str:
    """The plain `postgresql://` DSN asyncpg takes, from a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    """LISTENs on `CHANNELS` over one connection and calls each channel's subscribers (on the event loop,
    with the payload). Callbacks must be quick and must not raise: they set events or put on queues."""

    def __init__(self, url: str, *, connect_timeout: float = 5.0, reconnect_seconds: float = 1.0) -> None:
        self.dsn = asyncpg_dsn(url)
        self.connect_timeout = connect_timeout
        self.reconnect_seconds = reconnect_seconds
        self.connected = asyncio.Event()
        self._subscribers: dict[str, set[Callback]] = defaultdict(set)
        self._task = BackgroundTask("pg-listener")

    def subscribe(self, channel: str, callback: Callback) -> Callable[[], None]:
        """Add `callback` for `channel`; returns the function that removes it again."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}")
        self._subscribers[channel].add(callback)
        return lambda: self._subscribers[channel].discard(callback)

    def subscribers(self, channel: str) -> int:
        return len(self._subscribers[channel])

    async def start(self) -> None:
        self._task.start(self._run)

    async def stop(self) -> None:
        await self._task.stop()

    def _dispatch(self, channel: str, payload: str) -> None:
        for callback in list(self._subscribers[channel]):
            try:
                callback(payload)
            except Exception:
                logger.exception("notification subscriber failed")

    async def _run(self) -> None:
        while True:
            conn: Any = None
            closed = asyncio.Event()
            try:
                conn = await asyncpg.connect(self.dsn, timeout=self.connect_timeout)
                conn.add_termination_listener(lambda _conn, ended=closed: ended.set())
                for channel in CHANNELS:
                    await conn.add_listener(
                        channel, lambda _c, _pid, ch, payload: self._dispatch(ch, payload)
                    )
                self.connected.set()
                for channel in CHANNELS:  # anything sent while we were not listening is lost: resync
                    self._dispatch(channel, "")
                while not closed.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), timeout=self.reconnect_seconds)
                logger.warning("notification connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("notification connection failed; retrying", exc_info=True)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(self.reconnect_seconds)


class Subscription:
    """One waiter's view of a channel: `wait()` returns True once a notification it accepts arrived since
    the last call (many notifications in between count once), False when `seconds` passed first."""

    def __init__(
        self, listener: PgListener, channel: str, accept: Callable[[str], bool] | None = None
    ) -> None:
        self._event = asyncio.Event()
        self._accept = accept
        self._unsubscribe = listener.subscribe(channel, self._on_notify)

    def _on_notify(self, payload: str) -> None:
        # An empty payload is the listener's resync after a reconnect: always relevant.
        if not payload or self._accept is None or self._accept(payload):
            self._event.set()

    async def wait(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout=max(0.0, seconds))
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._unsubscribe()
