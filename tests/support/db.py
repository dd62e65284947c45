"""Test databases: one migrated template per run, a fresh copy per test, on SQLite or PostgreSQL."""

import asyncio
import os
import secrets
import shutil
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from photochanger.core import migrations
from photochanger.core.db import is_sqlite

PG_ENV = "PHOTOCHANGER_TEST_DATABASE_URL"


def backend_url() -> str | None:
    """The PostgreSQL URL the suite should run on, or None for SQLite."""
    return os.environ.get(PG_ENV) or None


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _pg_execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _drop_stale_databases(url: str) -> None:
    """Drop test databases left by runs whose process is gone (a crash or a kill skips the teardown)."""
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        names = [
            r["datname"]
            for r in await conn.fetch("SELECT datname FROM pg_database WHERE datname ~ '^pc[0-9]+_'")
        ]
        for name in names:
            pid = int(name[2:].split("_", 1)[0])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except PermissionError:
                continue
    finally:
        await conn.close()


class DatabaseFactory:
    """Makes empty or migrated databases for tests and drops them afterwards."""

    def __init__(self, base_url: str | None, workdir: Path) -> None:
        self.base_url = base_url
        self.workdir = workdir
        self.template_url: str | None = None
        self._tag = f"pc{os.getpid()}_{secrets.token_hex(3)}"

    @property
    def is_postgres(self) -> bool:
        return self.base_url is not None and not is_sqlite(self.base_url)

    def prepare_template(self) -> None:
        if self.is_postgres:
            assert self.base_url is not None
            asyncio.run(_drop_stale_databases(self.base_url))
            name = f"{self._tag}_tpl"
            asyncio.run(_pg_execute(self.base_url, f'CREATE DATABASE "{name}"'))
            self.template_url = _with_database(self.base_url, name)
        else:
            path = self.workdir / "template.sqlite"
            self.template_url = f"sqlite+aiosqlite:///{path}"
        migrations.upgrade(self.template_url)

    def drop_template(self) -> None:
        if self.is_postgres and self.template_url is not None:
            assert self.base_url is not None
            name = make_url(self.template_url).database
            asyncio.run(_pg_execute(self.base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def create(self, tmp_path: Path, *, migrated: bool = True) -> str:
        """A new database: a copy of the migrated template, or an empty one."""
        if self.is_postgres:
            assert self.base_url is not None
            name = f"{self._tag}_{secrets.token_hex(4)}"
            if migrated:
                assert self.template_url is not None
                template = make_url(self.template_url).database
                await _pg_execute(self.base_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                await _pg_execute(self.base_url, f'CREATE DATABASE "{name}"')
            return _with_database(self.base_url, name)
        path = tmp_path / f"db-{secrets.token_hex(4)}.sqlite"
        if migrated:
            assert self.template_url is not None
            shutil.copyfile(make_url(self.template_url).database or "", path)
        return f"sqlite+aiosqlite:///{path}"

    async def drop(self, url: str) -> None:
        if self.is_postgres:
            assert self.base_url is not None
            await _pg_execute(
                self.base_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'
            )
