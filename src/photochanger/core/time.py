"""Aware-UTC clock helpers; callers pass `now=` down instead of patching time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; a naive value is taken to already be UTC (SQLite stores no zone)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def hour_of(moment: datetime) -> datetime:
    """The UTC hour `moment` falls in (the grain of the hourly counters and rollups)."""
    return ensure_utc(moment).replace(minute=0, second=0, microsecond=0)


def day_of(moment: datetime) -> datetime:
    """The UTC day `moment` falls in, as its midnight."""
    return ensure_utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)
