"""Health probes."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from photochanger.app import create_app
from photochanger.config import AppConfig


async def test_live_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_reports_database_and_media_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "media": "ok"}}


async def _get_ready(app: FastAPI) -> httpx.Response:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.get("/health/ready")


async def test_ready_is_503_naming_the_database_when_it_is_unreachable(config: AppConfig) -> None:
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    broken = config.model_copy(
        update={
            "database_url": "postgresql+asyncpg://postgres@127.0.0.1:9/none",
            "db_connect_timeout_seconds": 1.0,
        }
    )
    response = await _get_ready(create_app(broken))
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "not_ready"
    assert body["checks"] == {"database": "down", "media": "ok"}
    assert "database" in body["detail"]


async def test_ready_is_503_naming_media_when_the_root_is_not_writable(
    config: AppConfig, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the media directory should be")
    app = create_app(config)
    async with app.router.lifespan_context(app):
        # The lifespan created the real media root; point the probe at a path that cannot be a directory.
        app.state.config = config.model_copy(update={"media_root": blocker / "media"})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "media": "down"}


@pytest.mark.parametrize("path", ["/health/live", "/health/ready"])
async def test_health_is_not_cached(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
