"""First start: create the first admin when there is no user, and show a generated password exactly once."""

import logging
from typing import TextIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.permissions import Role
from photochanger.auth.repository import UserRepository
from photochanger.config import AppConfig, ConfigError
from photochanger.i18n import N_, Translator
from photochanger.i18n.banner import generate_password, print_banner
from photochanger.users import service
from photochanger.users.exceptions import UsernameTaken, WeakPassword

logger = logging.getLogger(__name__)
BOOTSTRAP_ACTOR = "bootstrap"


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
