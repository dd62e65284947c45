"""Fixtures for the reliability suite: the real server on a fresh database, with known passwords."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.models import Job, JobStatus
from tests.support.server import ServerProcess, config_env, running_server

ADMIN_USER = "reliability-admin"
ADMIN_PASSWORD = "reliability admin password 2026"
INGEST_PASSWORD = "reliability-booth-2026"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "bootstrap_admin_username": ADMIN_USER,
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "bootstrap_ingest_password": INGEST_PASSWORD,
        "min_free_disk_mb": 50,
    }


@pytest.fixture
def server(config: AppConfig, tmp_path: Path) -> Iterator[ServerProcess]:
    """`python -m photochanger serve` on this test's database (migrated by the server itself)."""
    with running_server(
        config_env(config), tmp_path / "server.log", migrate=True, startup_timeout=60
    ) as proc:
        yield proc


def admin_headers(base_url: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def job_rows(app: FastAPI) -> list[Job]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(Job).order_by(Job.created_at))).scalars())


async def assert_clean_state(app: FastAPI, config: AppConfig) -> list[Job]:
    """The invariants after any mix of uploads: no job left pending, no temp upload on disk, every result
    and preview file belongs to a done job, every done job's result is on disk, every permit returned."""
    rows = await job_rows(app)
    assert [j.id for j in rows if j.status == JobStatus.pending] == []
    assert media_files(config.media_root / "temp") == []
    referenced = {
        config.media_root / rel
        for j in rows
        if j.status == JobStatus.done
        for rel in (j.result_path, j.preview_path)
        if rel is not None
    }
    stored = set(media_files(config.media_root / "results")) | set(
        media_files(config.media_root / "previews")
    )
    assert stored == referenced
    assert app.state.limiter.in_flight() == 0
    return rows
