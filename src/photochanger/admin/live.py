"""What the dashboard and a slot gallery show, as plain JSON-able data, and the Server-Sent Events stream
that re-sends it whenever it changes (polling the services every 2 s, so it works across workers)."""

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.admin.rendering import format_dt
from photochanger.config import AppConfig
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


def result_item(result: ResultRead) -> dict[str, Any]:
    return {
        "job_id": result.job_id,
        "source": result.source,
        "available": result.available,
        "created": format_dt(result.created_at),
        "expires": format_dt(result.expires_at),
        "preview_url": f"/public/results/{result.job_id}/preview",
        "result_url": f"/public/results/{result.job_id}",
    }


def provider_ready(providers: ProviderRegistry | None, provider_id: str, operation_id: str) -> bool:
    """False when booth shots to a slot with this provider and operation can only fail: an unknown
    provider or operation, or a provider without its API key."""
    if providers is None:
        return True
    try:
        provider = providers.get(provider_id)
        providers.operation(provider_id, operation_id)
    except LookupError:
        return False
    return bool(provider.configured)


async def dashboard_state(
    session: AsyncSession, config: AppConfig, providers: ProviderRegistry | None = None
) -> list[dict[str, Any]]:
    """One entry per slot: its summary, last-hour outcomes (refused uploads among them), whether its
    provider can work at all, and its last result."""
    cards: list[dict[str, Any]] = []
    refused = await problems_service.refusal_counts(session, since=utcnow() - slots_service.OUTCOME_WINDOW)
    for summary in await slots_service.list_slots(session, config):
        slot = await slots_service.get_slot(session, config, summary.id, limit=1)
        last = slot.recent_results[0] if slot.recent_results else None
        cards.append(
            {
                "slot_id": summary.id,
                "display_name": summary.display_name,
                "provider": summary.provider,
                "operation": summary.operation,
                "is_active": summary.is_active,
                "ingest_url": summary.ingest_url,
                "outcomes": {**summary.outcomes_last_hour, "refused": refused.get(summary.id, 0)},
                "configured": provider_ready(providers, summary.provider, summary.operation),
                "last": result_item(last) if last else None,
            }
        )
    return cards


async def gallery_state(
    session: AsyncSession, config: AppConfig, slot_id: str, *, limit: int
) -> dict[str, Any]:
    """The slot's last `limit` results, newest first. Raises `SlotNotFound`."""
    slot = await slots_service.get_slot(session, config, slot_id, limit=limit)
    return {"slot_id": slot.id, "results": [result_item(r) for r in slot.recent_results]}


async def stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    build: Callable[[AsyncSession], Awaitable[Any]],
    *,
    poll_seconds: float = POLL_SECONDS,
    stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[str]:
    """`event: state` with the JSON of `build()` at once and then whenever it changes; a comment line on
    the other polls keeps proxies from timing the stream out. Each poll uses a short-lived session."""
    yield f"retry: {RETRY_MS}\n\n"
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
        await anyio.sleep(poll_seconds)
