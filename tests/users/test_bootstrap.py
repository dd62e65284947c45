"""First start: the admin and the ingest password are created once; generated secrets never reach logs."""

import io
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.bootstrap import bootstrap
from photochanger.config import AppConfig, ConfigError
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.logging import JsonFormatter
from photochanger.core.passwords import verify_password
from photochanger.settings import service as settings_service
from photochanger.users import service


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


def _config(database_url: str, tmp_path: Path, **extra: str) -> AppConfig:
    return AppConfig(database_url=database_url, var_dir=tmp_path / "var", jwt_secret="s" * 40, **extra)  # type: ignore[arg-type]


async def test_first_start_creates_admin_and_ingest_password_shown_once_and_never_logged(
    database_url: str,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    out = io.StringIO()
    config = _config(database_url, tmp_path)
    await bootstrap(sessionmaker, config, out=out)
    banner = out.getvalue()
    admin_password = re.search(
        r"^  Open http://127\.0\.0\.1:8000/admin and sign in as admin / (\S+)$", banner, re.MULTILINE
    )
    ingest_password = re.search(r"^  ingest password: (\S+)$", banner, re.MULTILINE)
    assert admin_password is not None
    assert ingest_password is not None

    async with sessionmaker() as session:
        admin = await service.get_user_by_username(session, "admin")
        assert admin.role == "admin"
        assert admin.must_change_password is True  # the generated password must be replaced
        assert await verify_password(admin.password_hash, admin_password.group(1))
        state = await settings_service.ingest_password_state(session)
        assert state.password_hash is not None
        assert await verify_password(state.password_hash, ingest_password.group(1))

    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "bootstrap admin created" in logged
    assert admin_password.group(1) not in logged
    assert ingest_password.group(1) not in logged

    again = io.StringIO()
    await bootstrap(sessionmaker, config, out=again)
    assert again.getvalue() == ""


async def test_environment_overrides_need_no_banner(
    database_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    config = _config(
        database_url,
        tmp_path,
        bootstrap_admin_username="boss",
        bootstrap_admin_password="boss password from env",
        bootstrap_ingest_password="booth from env",
    )
    out = io.StringIO()
    await bootstrap(sessionmaker, config, out=out)
    assert out.getvalue() == ""
    async with sessionmaker() as session:
        boss = await service.get_user_by_username(session, "boss")
        assert await verify_password(boss.password_hash, "boss password from env")
        assert boss.must_change_password is False
        state = await settings_service.ingest_password_state(session)
        assert state.password_hash is not None
        assert await verify_password(state.password_hash, "booth from env")


async def test_a_weak_bootstrap_password_stops_the_start(
    database_url: str, tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    config = _config(database_url, tmp_path, bootstrap_admin_password="short")
    with pytest.raises(ConfigError, match="BOOTSTRAP_ADMIN_PASSWORD"):
        await bootstrap(sessionmaker, config, out=io.StringIO())


async def test_the_running_app_has_bootstrapped(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    body = (await client.get("/api/settings", headers=admin_headers)).json()
    assert body["ingest_password"]["set"] is True
    assert body["ingest_password"]["updated_by"] == "bootstrap"
    users = (await client.get("/api/users", headers=admin_headers)).json()
    assert "admin" in {u["username"] for u in users}


async def test_banner_is_in_the_terminals_language(
    database_url: str,
    tmp_path: Path,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    out = io.StringIO()
    await bootstrap(sessionmaker, _config(database_url, tmp_path), out=out)
    banner = out.getvalue()
    assert "PhotoChanger: создана первая учётная запись администратора" in banner
    assert re.search(
        r"^  Откройте http://127\.0\.0\.1:8000/admin и войдите как admin / \S+$", banner, re.MULTILINE
    )
    assert re.search(r"^  ingest-пароль: \S+$", banner, re.MULTILINE)
    assert "Это показывается один раз и нигде не записывается." in banner
    assert "password" not in banner
