"""One cleanup run at a time per database: a PostgreSQL advisory lock, or an flock'ed file next to a SQLite
database. Every node of a cluster takes the same lock."""

import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.config import AppConfig
from photochanger.core.db import is_sqlite
from photochanger.core.errors import Conflict

# Any 64-bit number shared by every PhotoChanger process; "PhCl" + "eanU".
ADVISORY_LOCK_KEY = 0x5068436C65616E55


class CleanupBusy(Conflict):
    code = "cleanup_running"
    title = "Cleanup already running"


def _sqlite_lock_path(config: AppConfig) -> Path:
    return config.var_dir / "cleanup.lock"


@asynccontextmanager
async def cleanup_lock(engine: AsyncEngine, config: AppConfig) -> AsyncIterator[None]:
    """Hold the one-run-at-a-time lock, or raise `CleanupBusy` at once if another run holds it."""
    if is_sqlite(str(engine.url)):
        path = _sqlite_lock_path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CleanupBusy("Another cleanup run holds the lock.") from None
            yield
        finally:
            os.close(fd)  # closing releases the flock
        return
    # A session-level advisory lock on a connection of its own, outside any transaction, so the batches'
    # short transactions never hold it and a crashed run releases it with its connection.
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        got = await auto.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        if not got:
            raise CleanupBusy("Another cleanup run holds the lock.")
        try:
            yield
        finally:
            await auto.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
