"""First start: the first admin and the ingest password, each in its own transaction.

Generated secrets go to the terminal once, never to the logs (`photochanger.i18n.banner`).
"""

import logging
from typing import TextIO

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.i18n import terminal_language
from photochanger.settings.bootstrap import ensure_ingest_password
from photochanger.users.bootstrap import ensure_admin

logger = logging.getLogger(__name__)


async def bootstrap(
    sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig, *, out: TextIO | None = None
) -> None:
    """Run both steps; an unreachable or unmigrated database skips them (the next start retries).
    Banners are in the terminal's language (its locale environment)."""
    language = terminal_language()
    try:
        async with sessionmaker() as session:
            await ensure_admin(session, config, out=out, language=language)
        async with sessionmaker() as session:
            await ensure_ingest_password(session, config, out=out, language=language)
    except (DBAPIError, OSError, TimeoutError) as exc:
        logger.warning("bootstrap skipped: database unavailable", extra={"error": type(exc).__name__})
