"""Count each job's provider calls into `provider_usage_daily` and read them back for stats and the
dashboard. The cost is an estimate: images times the price per image the admin set for the model."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import day_of, ensure_utc
from photochanger.models import ProviderKey, ProviderUsageDaily
from photochanger.usage.schemas import UsageRead, UsageRow

REFUSED = "provider_refused"


@dataclass(frozen=True)
class Call:
    """One provider call of a job: which provider, key and model, and how it ended."""

    provider: str
    key: str
    model: str
    link: int = 0
    image: bool = False
    refused: bool = False
    failed: bool = False


def calls_of(attempts: Iterable[Any]) -> list[Call]:
    """The calls behind a job's chain attempts (`ingest.chain.Attempt`): every key tried, then the link's
    own outcome; links that never started or were skipped made no call."""
    calls: list[Call] = []
    for a in attempts:
        if a.outcome in ("not_started", "skipped", "running"):
            continue
        model = a.model or ""
        for key_id, reason in a.skipped_keys or []:
            calls.append(Call(a.provider, key_id, model, a.link, refused=reason == REFUSED, failed=True))
        calls.append(
            Call(
                a.provider,
                a.key_id or "",
                model,
                a.link,
                image=a.outcome == "done",
                refused=a.reason == REFUSED,
                failed=a.outcome == "failed",
            )
        )
    return calls


async def record(
    session: AsyncSession,
    *,
    slot_id: str,
    started: datetime,
    calls: Sequence[Call],
    prices: Mapping[str, Mapping[str, float]],
) -> None:
    """Add `calls` to the day's counters (one upsert); `prices` is {provider: {model: price per image}}."""
    if not calls:
        return
    rows: dict[tuple[str, str, str, int], list[float]] = {}
    for call in calls:
        entry = rows.setdefault((call.provider, call.key, call.model, call.link), [0, 0, 0, 0, 0.0])
        entry[0] += 1
        entry[1] += int(call.image)
        entry[2] += int(call.refused)
        entry[3] += int(call.failed)
        if call.image:
            entry[4] += float(prices.get(call.provider, {}).get(call.model, 0.0))
    table: Any = ProviderUsageDaily.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    amounts = ("calls", "images", "refusals", "failures", "cost")
    stmt = stmt.on_conflict_do_update(
        index_elements=["day", "provider", "key", "slot_id", "model", "link"],
        set_={name: table.c[name] + stmt.excluded[name] for name in amounts},
    )
    day = day_of(started)
    params = [
        {
            "day": day,
            "provider": p,
            "key": k,
            "slot_id": slot_id,
            "model": m,
            "link": n,
            **dict(zip(amounts, v, strict=True)),
        }
        for (p, k, m, n), v in rows.items()
    ]
    await session.execute(stmt, params)


async def summary(session: AsyncSession, *, days: int, now: datetime) -> UsageRead:
    """Usage of the last `days` UTC days (today included), one row per day, provider, key, slot, model and
    chain link (0: the slot's primary), with each key shown by its last four characters."""
    since = day_of(now) - timedelta(days=days - 1)
    rows = (
        await session.scalars(
            select(ProviderUsageDaily)
            .where(ProviderUsageDaily.day >= since)
            .order_by(ProviderUsageDaily.day, ProviderUsageDaily.provider, ProviderUsageDaily.slot_id)
        )
    ).all()
    last4 = {str(k.id): k.last4 for k in (await session.scalars(select(ProviderKey))).all()}
    out = [
        UsageRow(
            day=ensure_utc(r.day).date(),
            provider=r.provider,
            key=r.key if r.key in ("env", "") else f"…{last4.get(r.key, '????')}",
            slot_id=r.slot_id,
            model=r.model,
            link=r.link,
            calls=r.calls,
            images=r.images,
            refusals=r.refusals,
            failures=r.failures,
            cost=round(r.cost, 4),
        )
        for r in rows
    ]
    today = day_of(now).date()
    return UsageRead(
        days=days,
        rows=out,
        total_cost=round(sum(r.cost for r in out), 4),
        today_cost=round(sum(r.cost for r in out if r.day == today), 4),
        today_images=sum(r.images for r in out if r.day == today),
    )


async def today_cost(session: AsyncSession, *, now: datetime) -> float:
    total = await session.scalar(
        select(func.coalesce(func.sum(ProviderUsageDaily.cost), 0.0)).where(
            ProviderUsageDaily.day == day_of(now)
        )
    )
    return round(float(total or 0.0), 4)
