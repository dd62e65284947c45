"""Alembic is the schema authority: upgrade, downgrade and agreement with the models, on both backends."""

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from photochanger.core import migrations
from photochanger.core.db import create_engine
from photochanger.models import Base
from photochanger.models.slot import slot_ids
from tests.support.db import DatabaseFactory


@pytest.fixture
async def empty_database_url(db_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[str]:
    url = await db_factory.create(tmp_path, migrated=False)
    yield url
    await db_factory.drop(url)


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_database_url: str) -> None:
    await anyio.to_thread.run_sync(migrations.upgrade, empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.connect() as conn:
            assert set(Base.metadata.tables) <= await conn.run_sync(_tables)
            rows = (
                await conn.execute(text("SELECT id, provider, operation, is_active FROM slot ORDER BY id"))
            ).all()
            assert [r[0] for r in rows] == slot_ids()
            assert {(r[1], r[2], bool(r[3])) for r in rows} == {("local", "passthrough", True)}

        await anyio.to_thread.run_sync(migrations.downgrade, empty_database_url)
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) <= {"alembic_version"}

        await anyio.to_thread.run_sync(migrations.upgrade, empty_database_url)
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT count(*) FROM slot"))).scalar_one()
            assert count == 15
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []


def test_migration_files_follow_the_naming_scheme() -> None:
    versions = migrations.MIGRATIONS_DIR / "versions"
    names = sorted(p.name for p in versions.glob("*.py") if p.name != "__init__.py")
    assert names, "at least one migration"
    pattern = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{4}_[a-z0-9_]+\.py$")
    for name in names:
        assert pattern.match(name), name
