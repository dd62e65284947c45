"""Aware-UTC clock helpers; callers pass `now=` down instead of patching time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; a naive value is taken to already be UTC (SQLite stores no zone)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
