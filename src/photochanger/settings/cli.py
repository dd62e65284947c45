"""`photochanger set-ingest-password` (from a prompt, stdin or a file, never argv)."""

import argparse
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.commands import CLI_ACTOR, CliFailure, guarded, read_secret, run_in_session
from photochanger.config import AppConfig
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import (
    INGEST_PASSWORD_KEY,
    INGEST_PASSWORD_MAX_LENGTH,
    INGEST_PASSWORD_MIN_LENGTH,
)


def _set_ingest_password(args: argparse.Namespace, config: AppConfig) -> str:
    if args.password_file is not None:
        try:
            lines = Path(args.password_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CliFailure(f"cannot read {args.password_file}: {exc.strerror}") from None
        password = lines[0] if lines else ""
    else:
        password = read_secret("New ingest password: ")
    if not INGEST_PASSWORD_MIN_LENGTH <= len(password) <= INGEST_PASSWORD_MAX_LENGTH:
        raise CliFailure(
            f"the ingest password must be {INGEST_PASSWORD_MIN_LENGTH} to {INGEST_PASSWORD_MAX_LENGTH} characters"
        )

    async def work(session: AsyncSession) -> str:
        await settings_service.set_ingest_password(session, password, actor=CLI_ACTOR)
        await audit_service.record(
            session, CLI_ACTOR, "settings.update", "settings", {INGEST_PASSWORD_KEY: "changed"}
        )
        return "ingest password set; the old one is refused from now on"

    return run_in_session(config, work)


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the ingest-password sub-command on the `photochanger` parser."""
    ingest = sub.add_parser(
        "set-ingest-password", help="set the booth ingest password (prompt, stdin or file)"
    )
    ingest.add_argument("--password-file", type=Path, default=None, help="read the password from this file")
    ingest.set_defaults(handler=guarded(_set_ingest_password))
