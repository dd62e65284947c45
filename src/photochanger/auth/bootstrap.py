"""First start: create the first admin and the ingest password, and show generated secrets exactly once.

Generated secrets go to the terminal as a plain banner written straight to the stream, never through
`logging`: structured logs are shipped and kept, a one-time password must not be.
"""

import logging
import secrets
import sys
from typing import TextIO

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.auth import service
from photochanger.auth.exceptions import UsernameTaken, WeakPassword
from photochanger.auth.permissions import Role
from photochanger.auth.repository import UserRepository
from photochanger.config import AppConfig, ConfigError
from photochanger.i18n import N_, Translator, terminal_language
from photochanger.settings import service as settings_service

logger = logging.getLogger(__name__)
BOOTSTRAP_ACTOR = "bootstrap"


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def print_banner(title: str, lines: list[str], out: TextIO | None = None, *, language: str = "en") -> None:
    """A one-time secret on the terminal, in the terminal's language (`title` and `lines` are msgids)."""
    t = Translator(language)
    stream = out or sys.stderr
    rule = "=" * 72
    body = "\n".join(f"  {line}" for line in lines)
    shown_once = t.gettext("This is shown once and never logged.")
    stream.write(f"\n{rule}\n  {t.gettext(title)}\n{body}\n  {shown_once}\n{rule}\n\n")
    stream.flush()


async def ensure_admin(
    session: AsyncSession, config: AppConfig, *, out: TextIO | None = None, language: str = "en"
) -> bool:
    """Create the first admin when there is no user at all; True when this call created it."""
    if await UserRepository(session).count() > 0:
        return False
    given = config.bootstrap_admin_password
    password = given.get_secret_value() if given is not None else generate_password()
    try:
        user = await service.create_user(
            session,
            username=config.bootstrap_admin_username,
            password=password,
            role=Role.admin,
            actor=BOOTSTRAP_ACTOR,
        )
        # A generated password has been on a terminal (and maybe in a scrollback or a CI log).
        user.must_change_password = given is None
        await session.commit()
    except WeakPassword as exc:
        raise ConfigError(f"PHOTOCHANGER_BOOTSTRAP_ADMIN_PASSWORD: {exc.detail}") from None
    except (IntegrityError, UsernameTaken):
        await session.rollback()  # another worker created it first
        return False
    logger.info("bootstrap admin created", extra={"username": user.username})
    if given is None:
        t = Translator(language)
        print_banner(
            N_("PhotoChanger: first admin account created"),
            [
                t.gettext(
                    "Open %(url)s and sign in as %(username)s / %(password)s",
                    url=config.absolute_url("/admin"),
                    username=user.username,
                    password=password,
                ),
                t.gettext("Change the password after the first login."),
            ],
            out,
            language=language,
        )
    return True


async def ensure_ingest_password(
    session: AsyncSession, config: AppConfig, *, out: TextIO | None = None, language: str = "en"
) -> bool:
    """Set the ingest password when none is stored; True when this call set it."""
    if (await settings_service.ingest_password_state(session)).is_set:
        return False
    given = config.bootstrap_ingest_password
    password = given.get_secret_value() if given is not None else generate_password()
    try:
        created = await settings_service.init_ingest_password(session, password, actor=BOOTSTRAP_ACTOR)
        await session.commit()
    except IntegrityError:
        await session.rollback()  # another worker set it first
        return False
    if not created:
        return False
    logger.info("bootstrap ingest password set", extra={"generated": given is None})
    if given is None:
        t = Translator(language)
        print_banner(
            N_("PhotoChanger: ingest password generated"),
            [
                t.gettext("ingest password: %(password)s", password=password),
                t.gettext("Enter it in the booth software; rotate it in Settings."),
            ],
            out,
            language=language,
        )
    return True


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
