"""`photochanger create-admin`, `reset-password` and `set-ingest-password`.

Passwords come from a prompt (a TTY) or the first line of stdin (scripts), or a file for the ingest
password; never from argv, where `ps` and shell history would show them.
"""

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.auth import service
from photochanger.auth.permissions import Role
from photochanger.auth.repository import UserRepository
from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.errors import PhotoChangerError
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import (
    INGEST_PASSWORD_KEY,
    INGEST_PASSWORD_MAX_LENGTH,
    INGEST_PASSWORD_MIN_LENGTH,
)

CLI_ACTOR = "cli"
T = TypeVar("T")


class CliFailure(Exception):
    """A message for stderr and exit status 1."""


def read_secret(prompt: str, *, stdin: TextIO | None = None, confirm: bool = True) -> str:
    """Prompt twice without echo on a terminal; otherwise read the first line of stdin."""
    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat: ") != first:
            raise CliFailure("the two entries differ")
        return first
    line = stream.readline()
    if not line:
        raise CliFailure("no password on stdin")
    return line.rstrip("\r\n")


def _run(config: AppConfig, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        engine = create_engine(
            config.database_url, pool_size=1, connect_timeout=config.db_connect_timeout_seconds
        )
        try:
            async with create_sessionmaker(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _guarded(
    handler: Callable[[argparse.Namespace, AppConfig], str],
) -> Callable[[argparse.Namespace, AppConfig], int]:
    def run(args: argparse.Namespace, config: AppConfig) -> int:
        try:
            message = handler(args, config)
        except CliFailure as exc:
            sys.stderr.write(f"photochanger {args.command}: {exc}\n")
            return 1
        except PhotoChangerError as exc:
            sys.stderr.write(f"photochanger {args.command}: {exc.detail}\n")
            return 1
        except (DBAPIError, OSError) as exc:
            sys.stderr.write(
                f"photochanger {args.command}: database not ready ({type(exc).__name__}); "
                "is it running and migrated (`photochanger migrate`)?\n"
            )
            return 1
        sys.stdout.write(message + "\n")
        return 0

    return run


def _create_admin(args: argparse.Namespace, config: AppConfig) -> str:
    password = read_secret(f"Password for {args.username}: ")

    async def work(session: AsyncSession) -> str:
        if await UserRepository(session).get_by_username(service.normalize_username(args.username)):
            raise CliFailure(f"user {args.username!r} exists; use `photochanger reset-password`")
        user = await service.create_user(
            session, username=args.username, password=password, role=Role.admin, actor=CLI_ACTOR
        )
        return f"admin {user.username!r} created"

    return _run(config, work)


def _reset_password(args: argparse.Namespace, config: AppConfig) -> str:
    password = read_secret(f"New password for {args.username}: ")

    async def work(session: AsyncSession) -> str:
        user = await service.reset_password(session, args.username, password, actor=CLI_ACTOR)
        return f"password of {user.username!r} reset; its sessions were revoked"

    return _run(config, work)


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

    return _run(config, work)


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the account and ingest-password sub-commands on the `photochanger` parser."""
    create = sub.add_parser("create-admin", help="create an admin (password from a prompt or stdin)")
    create.add_argument("username")
    create.set_defaults(handler=_guarded(_create_admin))

    reset = sub.add_parser("reset-password", help="set a user's password (prompt or stdin); revokes sessions")
    reset.add_argument("username")
    reset.set_defaults(handler=_guarded(_reset_password))

    ingest = sub.add_parser(
        "set-ingest-password", help="set the booth ingest password (prompt, stdin or file)"
    )
    ingest.add_argument("--password-file", type=Path, default=None, help="read the password from this file")
    ingest.set_defaults(handler=_guarded(_set_ingest_password))
