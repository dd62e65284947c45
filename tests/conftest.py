"""Shared fixtures: a fresh database per test on the selected backend, the app, and a network guard."""

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis.configuration import set_hypothesis_home_dir

from photochanger.app import create_app
from photochanger.auth.permissions import Role
from photochanger.config import AppConfig
from tests.support.artifacts import ARTIFACTS
from tests.support.auth import auth_headers
from tests.support.db import DatabaseFactory, backend_url
from tests.support.s3 import MotoServer, running_moto

# The fake upstream providers (tests/fakes): session-wide servers, reset per test by `<name>_fake`.
pytest_plugins = ["tests.fakes.fixtures"]

# Hypothesis keeps its examples and constants cache beside the other artifacts, not in the checkout.
set_hypothesis_home_dir(ARTIFACTS / "hypothesis")

CHEAP_PASSWORD_HASHING: dict[str, Any] = {
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 8,
    "password_hash_parallelism": 1,
}

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _is_local(address):
        pytest.fail(f"test tried to reach a non-loopback host: {address!r}")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _is_local(address):
        pytest.fail(f"test tried to reach a non-loopback host: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(scope="session")
def db_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend_url(), tmp_path_factory.mktemp("db"))
    factory.prepare_template()
    yield factory
    factory.drop_template()


@pytest.fixture
async def database_url(db_factory: DatabaseFactory, tmp_path: Path) -> AsyncIterator[str]:
    url = await db_factory.create(tmp_path)
    yield url
    await db_factory.drop(url)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def config(database_url: str, tmp_path: Path, config_overrides: dict[str, Any]) -> AppConfig:
    values: dict[str, Any] = {
        "database_url": database_url,
        "media_root": tmp_path / "media",
        "var_dir": tmp_path / "var",
        "jwt_secret": "test-secret-" + "x" * 40,
        "public_base_url": "http://booth.test",
        "log_format": "text",
        # The cheapest argon2id profile: production's costs ~45 ms per hash and dominated fixture set-up.
        **CHEAP_PASSWORD_HASHING,
    }
    values.update(config_overrides)
    return AppConfig(**values)


@pytest.fixture
async def app(config: AppConfig) -> AsyncIterator[FastAPI]:
    application = create_app(config)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def admin_headers(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    """Bearer headers of a fresh `test-admin` user (every permission)."""
    return await auth_headers(app, client, role=Role.admin)


@pytest.fixture
async def operator_headers(app: FastAPI, client: httpx.AsyncClient) -> dict[str, str]:
    """Bearer headers of a fresh `test-operator` user (read slots/results/stats/media, run slot tests)."""
    return await auth_headers(app, client, role=Role.operator)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A real S3-protocol server (moto's server mode) on a free loopback port, one per test session."""
    with running_moto(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> str:
    """A fresh, empty bucket on `moto_server`."""
    return moto_server.new_bucket()
