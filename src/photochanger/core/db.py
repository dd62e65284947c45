"""Async engine and session factory for SQLite and PostgreSQL, and the request-scoped session dependency."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

SQLITE_BUSY_TIMEOUT_MS = 5000


# SQLSTATEs that mean "the server cannot serve you right now": connection exceptions (08xxx), operator
# intervention such as a shutdown or a restart in progress (57P01-57P03), too many connections (53300).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53300")


def _sqlstate(exc: BaseException | None) -> str | None:
    seen = 0
    while exc is not None and seen < 5:
        state = getattr(exc, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        exc = exc.__cause__ or getattr(exc, "orig", None)
        seen += 1
    return None


def is_unavailable_error(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached right now (as opposed to a bad query)."""
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    state = _sqlstate(getattr(exc, "orig", None) if isinstance(exc, sa_exc.DBAPIError) else exc)
    if state is not None and state.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, OSError | ConnectionError)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_engine(url: str, *, pool_size: int = 10, connect_timeout: float = 5.0) -> AsyncEngine:
    """Build the engine for `url`; SQLite gets WAL, foreign keys and a busy timeout on every connection."""
    if is_sqlite(url):
        sqlite_path = make_url(url).database
        if sqlite_path and sqlite_path != ":memory:":
            Path(sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout,
        connect_args={"timeout": connect_timeout, "command_timeout": 30},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: committed when the endpoint returns, before the response is sent."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def rowcount(result: object) -> int:
    """Rows an UPDATE/DELETE touched (0 for results that carry no count)."""
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
