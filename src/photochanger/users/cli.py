"""`photochanger create-admin` and `reset-password` (passwords from a prompt or stdin, never argv)."""

import argparse

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.permissions import Role
from photochanger.auth.repository import UserRepository
from photochanger.commands import CLI_ACTOR, CliFailure, guarded, read_secret, run_in_session
from photochanger.config import AppConfig
from photochanger.users import service


def _create_admin(args: argparse.Namespace, config: AppConfig) -> str:
    password = read_secret(f"Password for {args.username}: ")

    async def work(session: AsyncSession) -> str:
        if await UserRepository(session).get_by_username(service.normalize_username(args.username)):
            raise CliFailure(f"user {args.username!r} exists; use `photochanger reset-password`")
        user = await service.create_user(
            session, username=args.username, password=password, role=Role.admin, actor=CLI_ACTOR
        )
        return f"admin {user.username!r} created"

    return run_in_session(config, work)


def _reset_password(args: argparse.Namespace, config: AppConfig) -> str:
    password = read_secret(f"New password for {args.username}: ")

    async def work(session: AsyncSession) -> str:
        user = await service.reset_password(session, args.username, password, actor=CLI_ACTOR)
        return f"password of {user.username!r} reset; its sessions were revoked"

    return run_in_session(config, work)


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Register the account sub-commands on the `photochanger` parser."""
    create = sub.add_parser("create-admin", help="create an admin (password from a prompt or stdin)")
    create.add_argument("username")
    create.set_defaults(handler=guarded(_create_admin))

    reset = sub.add_parser("reset-password", help="set a user's password (prompt or stdin); revokes sessions")
    reset.add_argument("username")
    reset.set_defaults(handler=guarded(_reset_password))
