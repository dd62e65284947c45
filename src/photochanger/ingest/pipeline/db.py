"""The pipeline's short transactions: one per step, none held while a provider works. A database outage
becomes the booth's 503 (or 429 when every pooled connection is busy)."""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.db import is_unavailable_error
from photochanger.core.errors import PhotoChangerError
from photochanger.ingest.exceptions import Busy, Unavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

BUSY_RETRY_AFTER_SECONDS = 3
DB_RETRY_AFTER_SECONDS = 5


def busy(detail: str) -> Busy:
    return Busy(detail, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})


def db_unavailable(exc: BaseException) -> PhotoChangerError:
    """503 when the database is down; 429 when it is up but every pooled connection is busy (our own
    overload, which a retry a little later solves)."""
    if isinstance(exc, sa_exc.TimeoutError):
        return busy("The server is busy; try again in a few seconds.")
    return Unavailable(
        "The database is unreachable; try again shortly.",
        headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
    )


class Transactions:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def run(self, action: str, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run one short transaction; a database outage becomes 503 with Retry-After."""
        try:
            async with self.sessionmaker() as session, session.begin():
                return await func(session, *args, **kwargs)
        except Exception as exc:
            if is_unavailable_error(exc):
                logger.warning("database unavailable during %s", action)
                raise db_unavailable(exc) from exc
            raise

    async def read(self, func: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """A read outside a transaction block (the session ends with it); an outage becomes 503."""
        try:
            async with self.sessionmaker() as session:
                return await func(session)
        except PhotoChangerError:
            raise
        except Exception as exc:
            if is_unavailable_error(exc):
                raise db_unavailable(exc) from exc
            raise
