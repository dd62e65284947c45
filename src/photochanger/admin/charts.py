"""The stats page's data (from `photochanger.stats`) laid out as inline SVG bar charts: geometry only,
drawn by the template, so no chart library and no script is needed."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import utcnow
from photochanger.models.slot import slot_ids
from photochanger.stats import service as stats_service

CHART_WIDTH = 640
LABEL_WIDTH = 130
LABEL_CHARS = 18
VALUE_WIDTH = 90
ROW_HEIGHT = 22
BAR_HEIGHT = 14
OUTCOMES = ("done", "failed", "timeout", "pending")
PERCENTILES = ("p50", "p95")


@dataclass
class Segment:
    x: float
    width: float
    kind: str
    value: str


@dataclass
class Row:
    label: str
    y: float
    segments: list[Segment] = field(default_factory=list)
    total: str = ""


@dataclass
class Chart:
    rows: list[Row]
    height: int
    width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT
    legend: tuple[str, ...] = ()

    @property
    def plot_width(self) -> int:
        return self.width - LABEL_WIDTH - VALUE_WIDTH

    @property
    def value_x(self) -> int:
        return self.width - VALUE_WIDTH + 6


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def _scale(value: float, biggest: float, width: float) -> float:
    return 0.0 if biggest <= 0 else round(value / biggest * width, 1)


def outcome_chart(counts: dict[str, dict[str, int]], names: dict[str, str] | None = None) -> Chart:
    """One stacked bar per slot (labelled with its name): done, failed, timeout, pending."""
    names = names or {}
    biggest = max((sum(c.values()) for c in counts.values()), default=0)
    rows: list[Row] = []
    chart = Chart(rows=rows, height=0, legend=OUTCOMES)
    for index, (slot_id, slot_counts) in enumerate(counts.items()):
        label = _label(names.get(slot_id, slot_id))
        row = Row(label=label, y=index * ROW_HEIGHT, total=str(sum(slot_counts.values())))
        x = float(LABEL_WIDTH)
        for kind in OUTCOMES:
            n = slot_counts.get(kind, 0)
            if n:
                width = _scale(n, biggest, chart.plot_width)
                row.segments.append(Segment(x=x, width=max(width, 1.0), kind=kind, value=str(n)))
                x += width
        rows.append(row)
    chart.height = max(1, len(rows)) * ROW_HEIGHT
    return chart


def _per_hour(booth: Any, window: str) -> float:
    shots = booth.done + booth.failed + booth.timeout + booth.pending
    hours = stats_service.parse_window(window).total_seconds() / 3600
    return round(shots / hours, 1) if hours else 0.0


def latency_chart(latency: dict[str, dict[str, float | None]], names: dict[str, str] | None = None) -> Chart:
    """Per slot (labelled with its name), a p95 bar with the p50 bar drawn over it (seconds)."""
    names = names or {}
    biggest = max((v or 0.0 for pcts in latency.values() for v in pcts.values()), default=0.0)
    rows: list[Row] = []
    chart = Chart(rows=rows, height=0, legend=PERCENTILES)
    for index, (slot_id, pcts) in enumerate(latency.items()):
        p50, p95 = pcts.get("p50"), pcts.get("p95")
        row = Row(label=_label(names.get(slot_id, slot_id)), y=index * ROW_HEIGHT)
        for kind, value in (("p95", p95), ("p50", p50)):
            if value is not None:
                width = max(_scale(value, biggest, chart.plot_width), 1.0)
                row.segments.append(Segment(x=LABEL_WIDTH, width=width, kind=kind, value=f"{value:.1f}"))
        row.total = " / ".join(f"{v:.1f}" for v in (p50, p95) if v is not None) or "—"
        rows.append(row)
    chart.height = max(1, len(rows)) * ROW_HEIGHT
    return chart


async def slot_stats(
    session: AsyncSession, *, window: str, now: datetime | None = None, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """Booth-traffic outcomes and p50/p95 latency (seconds) per slot over `window` (`1h`, `24h`, `7d`),
    labelled with the slots' `names`, and the booth shots per hour over the window."""
    now = now or utcnow()
    overview = await stats_service.overview(session, window=window, now=now)
    per_slot = {s.slot_id: s for s in overview.slots}
    counts: dict[str, dict[str, int]] = {}
    latency: dict[str, dict[str, float | None]] = {}
    for slot_id in slot_ids():
        totals = per_slot.get(slot_id)
        if totals is None or totals.total == 0:
            continue
        detail = await stats_service.slot_stats(session, slot_id, window=window, now=now)
        booth = detail.booth
        counts[slot_id] = {
            "done": booth.done,
            "failed": booth.failed,
            "timeout": booth.timeout,
            "pending": booth.pending,
        }
        latency[slot_id] = {
            "p50": booth.p50_ms / 1000 if booth.p50_ms is not None else None,
            "p95": booth.p95_ms / 1000 if booth.p95_ms is not None else None,
        }
    return {
        "booth": overview.booth,
        "ui_test": overview.ui_test,
        "outcomes": outcome_chart(counts, names),
        "latency": latency_chart(latency, names),
        "shots_per_hour": _per_hour(overview.booth, window),
        "has_data": bool(counts),
    }
