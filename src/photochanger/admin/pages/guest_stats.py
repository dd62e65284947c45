"""The Stats page's guest section: page opens and downloads of the guest links per slot over the chosen
window, for every slot whether it belongs to an event or not (rendered by `_stats_guests.html`)."""

from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import utcnow
from photochanger.stats import engagement
from photochanger.stats import service as stats_service


async def context(
    request: Request, session: AsyncSession, window: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """`guests`: slot id -> {page_open, download} for the slots guests opened or downloaded from, and
    `guest_totals` over all slots. This process's pending counts are written first (other processes'
    arrive within `FLUSH_SECONDS`)."""
    counts: engagement.GuestCounts = request.app.state.guest_counts
    await counts.flush()
    since = (now or utcnow()) - stats_service.parse_window(window)
    per_slot = await engagement.totals(session, since=since)
    totals = {m.value: sum(row.get(m.value, 0) for row in per_slot.values()) for m in engagement.GuestMetric}
    return {"guests": dict(sorted(per_slot.items())), "guest_totals": totals}
