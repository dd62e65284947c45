"""`POST /api/media/cleanup` and `GET /api/media/usage`: admin only."""

from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.auth.permissions import Role
from photochanger.config import AppConfig
from photochanger.core.time import utcnow
from tests.support.auth import auth_headers
from tests.support.jobs import add_job


async def test_admin_runs_cleanup_and_reads_usage(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig
) -> None:
    sessionmaker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    root: Path = config.media_root
    expired = await add_job(sessionmaker, root, expires_at=utcnow() - timedelta(hours=1), slot_id="slot-003")
    live = await add_job(sessionmaker, root, expires_at=utcnow() + timedelta(hours=1), slot_id="slot-003")
    headers = await auth_headers(app, client, role=Role.admin)

    usage = await client.get("/api/media/usage", headers=headers)
    assert usage.status_code == 200
    body = usage.json()
    assert body["slots"]["slot-003"]["results"]["files"] == 2
    assert body["slots"]["slot-003"]["previews"]["files"] == 2
    assert body["min_free_bytes"] == 500 * 1024 * 1024
    assert body["filesystem_free_bytes"] > 0

    dry = await client.post("/api/media/cleanup?dry_run=true", headers=headers)
    assert dry.status_code == 200
    assert dry.json()["results_deleted"] == 1
    assert expired.result_path is not None
    assert (root / expired.result_path).exists()

    real = await client.post("/api/media/cleanup", headers=headers)
    assert real.status_code == 200
    report = real.json()
    assert (report["expired_jobs"], report["results_deleted"], report["previews_deleted"]) == (1, 1, 1)
    assert report["errors"] == []
    assert not (root / expired.result_path).exists()
    assert live.result_path is not None
    assert (root / live.result_path).exists()


async def test_cleanup_needs_media_write(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/media/cleanup")).status_code == 401
    operator = await auth_headers(app, client, role=Role.operator)
    denied = await client.post("/api/media/cleanup", headers=operator)
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/media/usage", headers=operator)).status_code == 200
