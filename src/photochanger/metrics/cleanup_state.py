"""Cleanup run totals and the last successful run, kept in `app_setting` so a `photochanger cleanup` run in
another process (the systemd timer) shows up in the server's `/metrics`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from photochanger.core.db import create_sessionmaker
from photochanger.core.time import ensure_utc, utcnow
from photochanger.models import AppSetting

KEY = "cleanup.state"


@dataclass(frozen=True)
class CleanupState:
    runs_ok: int = 0
    runs_error: int = 0
    deleted_files: int = 0
    last_success_at: datetime | None = None
    last_run_at: datetime | None = None


def _parse(value: Any) -> CleanupState:
    if not isinstance(value, dict):
        return CleanupState()

    def when(raw: Any) -> datetime | None:
        return ensure_utc(datetime.fromisoformat(raw)) if isinstance(raw, str) else None

    return CleanupState(
        runs_ok=int(value.get("runs_ok", 0)),
        runs_error=int(value.get("runs_error", 0)),
        deleted_files=int(value.get("deleted_files", 0)),
        last_success_at=when(value.get("last_success_at")),
        last_run_at=when(value.get("last_run_at")),
    )


async def load(session: AsyncSession) -> CleanupState:
    row = await session.get(AppSetting, KEY)
    return _parse(row.value if row is not None else None)


async def record(
    engine: AsyncEngine, *, ok: bool, deleted_files: int, ran_at: datetime | None = None
) -> CleanupState:
    """Add one finished run to the totals (callers hold the cleanup lock, so runs never race here)."""
    ran_at = ensure_utc(ran_at or utcnow())
    async with create_sessionmaker(engine)() as session, session.begin():
        row = await session.get(AppSetting, KEY, with_for_update=True)
        old = _parse(row.value if row is not None else None)
        new = CleanupState(
            runs_ok=old.runs_ok + int(ok),
            runs_error=old.runs_error + int(not ok),
            deleted_files=old.deleted_files + deleted_files,
            last_success_at=ran_at if ok else old.last_success_at,
            last_run_at=ran_at,
        )
        value = {
            "runs_ok": new.runs_ok,
            "runs_error": new.runs_error,
            "deleted_files": new.deleted_files,
            "last_success_at": new.last_success_at.isoformat() if new.last_success_at else None,
            "last_run_at": ran_at.isoformat(),
        }
        if row is None:
            session.add(AppSetting(key=KEY, value=value, updated_at=ran_at, updated_by="cleanup"))
        else:
            row.value = value
            row.updated_at = ran_at
            row.updated_by = "cleanup"
    return new
