"""First start: set the booth ingest password when none is stored, and show a generated one exactly once."""

import logging
from typing import TextIO

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.config import AppConfig
from photochanger.i18n import N_, Translator
from photochanger.i18n.banner import generate_password, print_banner
from photochanger.settings import service as settings_service

logger = logging.getLogger(__name__)
BOOTSTRAP_ACTOR = "bootstrap"


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
