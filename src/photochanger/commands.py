"""What the account and settings sub-commands share: secret prompts, one committed session, exit codes.

Passwords come from a prompt (a TTY) or the first line of stdin (scripts), or a file; never from argv, where
`ps` and shell history would show them.
"""

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.errors import PhotoChangerError

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


def run_in_session(config: AppConfig, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one session on a one-connection engine and commit it."""

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


def guarded(
    handler: Callable[[argparse.Namespace, AppConfig], str],
) -> Callable[[argparse.Namespace, AppConfig], int]:
    """A sub-command handler that prints its message, or the failure on stderr with exit status 1."""

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
