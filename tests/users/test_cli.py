"""`photochanger create-admin`, `reset-password`, `set-ingest-password` run as real subprocesses."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.passwords import verify_password
from photochanger.models import AuditLog
from photochanger.settings import service as settings_service
from photochanger.users import service

PASSWORD = "a long cli password"


def _run(database_url: str, cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOCHANGER_")}
    env["PHOTOCHANGER_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "photochanger", *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def _password_ok(sm: async_sessionmaker[AsyncSession], username: str, password: str) -> bool:
    async with sm() as session:
        user = await service.get_user_by_username(session, username)
        return await verify_password(user.password_hash, password)


async def test_create_admin_then_reset_password(
    database_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    created = _run(database_url, tmp_path, "create-admin", "Serg", stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    assert "'serg' created" in created.stdout
    assert PASSWORD not in created.stdout + created.stderr
    assert await _password_ok(sessionmaker, "serg", PASSWORD)

    again = _run(database_url, tmp_path, "create-admin", "serg", stdin=PASSWORD + "\n")
    assert again.returncode == 1
    assert "exists" in again.stderr

    reset = _run(database_url, tmp_path, "reset-password", "serg", stdin="another long password\n")
    assert reset.returncode == 0, reset.stderr
    assert "another long password" not in reset.stdout + reset.stderr
    assert await _password_ok(sessionmaker, "serg", "another long password")
    assert not await _password_ok(sessionmaker, "serg", PASSWORD)
    async with sessionmaker() as session:
        actions = [(e.actor, e.action) for e in (await session.execute(AuditLog.__table__.select())).all()]
    assert ("cli", "user.create") in actions
    assert ("cli", "user.password_reset") in actions


def test_cli_refuses_bad_input(database_url: str, tmp_path: Path) -> None:
    weak = _run(database_url, tmp_path, "create-admin", "serg", stdin="short\n")
    assert weak.returncode == 1
    assert "characters" in weak.stderr
    empty = _run(database_url, tmp_path, "create-admin", "serg", stdin="")
    assert empty.returncode == 1
    unknown = _run(database_url, tmp_path, "reset-password", "nobody", stdin=PASSWORD + "\n")
    assert unknown.returncode == 1
    assert "not found" in unknown.stderr.lower()
    # There is no way to pass a password on the command line.
    argv = _run(database_url, tmp_path, "create-admin", "serg", "--password", PASSWORD)
    assert argv.returncode == 2


def test_cli_explains_an_unmigrated_database(tmp_path: Path) -> None:
    result = _run(
        f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}",
        tmp_path,
        "create-admin",
        "serg",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 1
    assert "photochanger migrate" in result.stderr
    assert "Traceback" not in result.stderr


async def test_set_ingest_password_from_stdin_and_file(
    database_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from_stdin = _run(database_url, tmp_path, "set-ingest-password", stdin="booth-pass-1\n")
    assert from_stdin.returncode == 0, from_stdin.stderr
    async with sessionmaker() as session:
        state = await settings_service.ingest_password_state(session)
    assert state.password_hash is not None
    assert state.updated_by == "cli"
    assert await verify_password(state.password_hash, "booth-pass-1")

    secret_file = tmp_path / "ingest.txt"
    secret_file.write_text("booth-pass-2\n", encoding="utf-8")
    from_file = _run(database_url, tmp_path, "set-ingest-password", "--password-file", str(secret_file))
    assert from_file.returncode == 0, from_file.stderr
    async with sessionmaker() as session:
        state = await settings_service.ingest_password_state(session)
    assert state.password_hash is not None
    assert await verify_password(state.password_hash, "booth-pass-2")
    assert not await verify_password(state.password_hash, "booth-pass-1")

    short = _run(database_url, tmp_path, "set-ingest-password", stdin="short\n")
    assert short.returncode == 1
    missing = _run(database_url, tmp_path, "set-ingest-password", "--password-file", str(tmp_path / "nope"))
    assert missing.returncode == 1
