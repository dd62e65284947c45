"""Real nginx with deploy/nginx/photochanger.conf (ports, paths and certificate templated) in front of the real server."""

import asyncio
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.settings import service as settings_service
from tests.support.ci import require_tool
from tests.support.nginx import (
    ACCEL_PREFIX as ACCEL_PREFIX,
)
from tests.support.nginx import render_site_conf, self_signed, start_on_free_ports, stop
from tests.support.server import ServerProcess, config_env, free_port, running_server


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    return self_signed(require_tool("openssl", "makes the test's TLS certificate"), workdir)


BOOTH_PASSWORD = "booth-through-nginx-2026"


async def _set_ingest_password(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await settings_service.set_ingest_password(session, BOOTH_PASSWORD, actor="test")
    finally:
        await engine.dispose()


@dataclass
class Stack:
    https_url: str
    http_url: str
    cert: Path
    app: ServerProcess
    config: AppConfig
    workdir: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.https_url, verify=ssl.create_default_context(cafile=str(self.cert)))


@pytest.fixture
def stack(config: AppConfig, tmp_path: Path) -> Iterator[Stack]:
    nginx = require_tool("nginx", "the deploy tests run the real nginx")
    workdir = tmp_path / "nginx"
    workdir.mkdir()
    cert, key = _self_signed(workdir)
    app_port = free_port()
    config.media_root.mkdir(parents=True, exist_ok=True)

    def site_conf(http_port: int, https_port: int) -> str:
        return render_site_conf(
            http_port=http_port, https_port=https_port, app_port=app_port,
            media_root=config.media_root, cert=cert, key=key, log_dir=workdir,
        )  # fmt: skip

    asyncio.run(_set_ingest_password(config.database_url))
    env = config_env(config, PHOTOCHANGER_ACCEL_REDIRECT_PREFIX=ACCEL_PREFIX)
    with running_server(env, tmp_path / "server.log", port=app_port) as app:
        proc, http_port, https_port = start_on_free_ports(nginx, workdir, site_conf)
        try:
            yield Stack(
                f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", cert, app, config, workdir
            )
        finally:
            stop(proc)
