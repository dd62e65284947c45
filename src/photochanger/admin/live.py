"""What the dashboard and a slot gallery show, as plain JSON-able data, and the Server-Sent Events stream
that re-sends it whenever it changes.

On PostgreSQL the stream wakes on `NOTIFY photochanger_jobs` (sent in the transaction that ends a job, by
any process on any node) through the process's one listening connection, and re-reads the state then, or
every `IDLE_SECONDS` as a backstop for changes that send no notification (a slot edited, a result cleaned).
On SQLite (one process) it polls every 2 s.
"""

import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Collection
from typing import Any, TypedDict

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.admin.rendering import format_dt, iso_utc
from photochanger.config import AppConfig
from photochanger.core.errors import PhotoChangerError
from photochanger.core.links import Links
from photochanger.core.notify import JOBS_CHANNEL, PgListener, Subscription
from photochanger.core.time import utcnow
from photochanger.problems import service as problems_service
from photochanger.providers.registry import ProviderRegistry
from photochanger.slots import service as slots_service
from photochanger.slots.schemas import ResultRead

logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0
# A stream ends after this long and the browser's EventSource reconnects (after `retry` ms): no stream
# outlives a graceful shutdown by much, and a dropped proxy connection heals by itself.
STREAM_SECONDS = 50.0
RETRY_MS = 2000
# Notified streams: re-read at least this often (and send a keep-alive comment when nothing changed).
IDLE_SECONDS = 15.0
# Jobs often end in bursts: one re-read for the notifications of this short a moment.
COALESCE_SECONDS = 0.05


class TooManyStreams(PhotoChangerError):
    status_code = 429
    code = "too_many_streams"
    title = "Too many live streams"


class StreamLimiter:
    """Live streams open per admin session in this process; `open(key)` refuses one beyond `cap`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[str, int] = {}

    def count(self, key: str) -> int:
        return self._open.get(key, 0)

    def total(self) -> int:
        return sum(self._open.values())

    def open(self, key: str) -> "StreamTicket":
        if self._open.get(key, 0) >= self.cap:
            raise TooManyStreams(
                f"This session already has {self.cap} live streams open; close a tab and retry.",
                headers={"Retry-After": str(RETRY_MS // 1000)},
            )
        self._open[key] = self._open.get(key, 0) + 1
        return StreamTicket(self, key)

    def _close(self, key: str) -> None:
        left = self._open.get(key, 0) - 1
        if left > 0:
            self._open[key] = left
        else:
            self._open.pop(key, None)


class StreamTicket:
    """One open stream's place; `close()` (idempotent) gives it back. A response dropped before its body
    was ever iterated gives it back when collected."""

    def __init__(self, limiter: StreamLimiter, key: str) -> None:
        self._limiter: StreamLimiter | None = limiter
        self._key = key

    def close(self) -> None:
        limiter, self._limiter = self._limiter, None
        if limiter is not None:
            limiter._close(self._key)

    def __del__(self) -> None:
        self.close()


async def ticketed(ticket: StreamTicket, events: AsyncIterator[str]) -> AsyncIterator[str]:
    """`events`, giving the stream's place back however the stream ends (client gone included)."""
    try:
        async for chunk in events:
            yield chunk
    finally:
        ticket.close()


class ResultTile(TypedDict):
    """One result as a gallery tile or a dashboard card shows it (and the live stream sends it)."""

    job_id: str
    source: str
    available: bool
    created: str
    created_at: str | None
    expires: str
    preview_url: str
    result_url: str
    # A fallback of the slot's chain produced it: the tile names the provider.
    via: str | None


class SlotCard(TypedDict):
    """One slot on the dashboard."""

    slot_id: str
    display_name: str
    provider: str
    operation: str
    is_active: bool
    ingest_url: str
    outcomes: dict[str, int]
    configured: bool
    last: ResultTile | None


class GalleryState(TypedDict):
    slot_id: str
    results: list[ResultTile]


def result_item(result: ResultRead) -> ResultTile:
    return {
        "job_id": result.job_id,
        "source": result.source,
        "available": result.available,
        "created": format_dt(result.created_at),
        "created_at": iso_utc(result.created_at),
        "expires": format_dt(result.expires_at),
        "preview_url": Links.preview(result.job_id),
        "result_url": Links.result(result.job_id),
        "via": result.result_provider if result.result_link else None,
    }


def provider_ready(
    providers: ProviderRegistry | None, provider_id: str, operation_id: str, keyed: Collection[str] = ()
) -> bool:
    """False when booth shots to a slot with this provider and operation can only fail: an unknown
    provider or operation, or a provider with neither its environment key nor a working admin key
    (`keyed`)."""
    if providers is None:
        return True
    try:
        provider = providers.get(provider_id)
        providers.operation(provider_id, operation_id)
    except LookupError:
        return False
    return bool(provider.configured) or provider_id in keyed


async def dashboard_state(
    session: AsyncSession,
    config: AppConfig,
    providers: ProviderRegistry | None = None,
    keyed: Collection[str] = (),
) -> list[SlotCard]:
    """One card per slot: its summary, last-hour outcomes (refused uploads among them), whether its
    provider can work at all, and its last result. A fixed number of queries however many slots there
    are: the stream re-reads this every poll."""
    now = utcnow()
    refused = await problems_service.refusal_counts(session, since=now - slots_service.OUTCOME_WINDOW)
    latest = await slots_service.latest_results(session, config, now=now)
    cards: list[SlotCard] = []
    for summary in await slots_service.list_slots(session, config, now=now):
        last = latest.get(summary.id)
        cards.append(
            {
                "slot_id": summary.id,
                "display_name": summary.display_name,
                "provider": summary.provider,
                "operation": summary.operation,
                "is_active": summary.is_active,
                "ingest_url": summary.ingest_url,
                "outcomes": {**summary.outcomes_last_hour, "refused": refused.get(summary.id, 0)},
                "configured": provider_ready(providers, summary.provider, summary.operation, keyed),
                "last": result_item(last) if last else None,
            }
        )
    return cards


async def gallery_state(
    session: AsyncSession, config: AppConfig, slot_id: str, *, limit: int
) -> GalleryState:
    """The slot's last `limit` results, newest first. Raises `SlotNotFound`."""
    slot = await slots_service.get_slot(session, config, slot_id, limit=limit)
    return {"slot_id": slot.id, "results": [result_item(r) for r in slot.recent_results]}


async def stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    build: Callable[[AsyncSession], Awaitable[Any]],
    *,
    poll_seconds: float = POLL_SECONDS,
    stream_seconds: float = STREAM_SECONDS,
    listener: PgListener | None = None,
    slot_id: str | None = None,
    idle_seconds: float = IDLE_SECONDS,
) -> AsyncGenerator[str, None]:
    """`event: state` with the JSON of `build()` at once and then whenever it changes; a comment line on
    the other reads keeps proxies from timing the stream out. Each read uses a short-lived session. With a
    `listener`, reads follow job notifications (of `slot_id` only, when given) instead of a poll."""
    yield f"retry: {RETRY_MS}\n\n"
    # Subscribed before the first read: a job that ends during it still wakes the next one.
    subscription = (
        Subscription(listener, JOBS_CHANNEL, None if slot_id is None else lambda payload: payload == slot_id)
        if listener is not None
        else None
    )
    try:
        async for chunk in _states(
            sessionmaker, build, poll_seconds, stream_seconds, subscription, idle_seconds
        ):
            yield chunk
    finally:
        if subscription is not None:
            subscription.close()


async def _states(
    sessionmaker: async_sessionmaker[AsyncSession],
    build: Callable[[AsyncSession], Awaitable[Any]],
    poll_seconds: float,
    stream_seconds: float,
    subscription: Subscription | None,
    idle_seconds: float,
) -> AsyncIterator[str]:
    last: str | None = None
    # A deadline, not a cancel scope: a scope must never stay open across a generator's `yield`.
    deadline = time.monotonic() + stream_seconds
    while time.monotonic() < deadline:
        try:
            async with sessionmaker() as session:
                state = await build(session)
        except Exception:
            logger.warning("admin live update failed", exc_info=True)
            state = None
        if state is not None:
            data = json.dumps(state, sort_keys=True, separators=(",", ":"))
            if data != last:
                last = data
                yield f"event: state\ndata: {data}\n\n"
            else:
                yield ": idle\n\n"
        if subscription is None:
            await anyio.sleep(poll_seconds)
        elif await subscription.wait(min(idle_seconds, deadline - time.monotonic())):
            await anyio.sleep(COALESCE_SECONDS)
