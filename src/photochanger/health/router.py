"""`/health/live` says the process answers; `/health/ready` checks the database, the media root (upload temp
files, and everything with the filesystem backend) and, with the bucket backend, the bucket."""

import logging
from typing import Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from photochanger.core.errors import problem_response
from photochanger.core.media_store import MediaStore
from photochanger.core.storage import writable
from photochanger.deps import ConfigDep, EngineDep, MediaStoreDep

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/health", tags=["health"])

CheckState = Literal["ok", "down"]
READY_DB_TIMEOUT_SECONDS = 3.0


class LiveRead(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyRead(BaseModel):
    status: Literal["ok"]
    checks: dict[str, CheckState]


@router.get("/live", response_model=LiveRead)
async def live() -> LiveRead:
    return LiveRead()


async def _database_up(engine: AsyncEngine) -> bool:
    try:
        with anyio.fail_after(READY_DB_TIMEOUT_SECONDS):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason goes to the log, not the client
        logger.warning("readiness: database unreachable", exc_info=True)
        return False
    return True


async def _bucket_up(store: MediaStore) -> bool:
    try:
        with anyio.fail_after(READY_DB_TIMEOUT_SECONDS):
            return await anyio.to_thread.run_sync(store.check, abandon_on_cancel=True)
    except TimeoutError:
        logger.warning("readiness: media bucket did not answer")
        return False


@router.get(
    "/ready",
    response_model=ReadyRead,
    responses={503: {"description": "A dependency is down", "content": {"application/problem+json": {}}}},
)
async def ready(
    request: Request, config: ConfigDep, engine: EngineDep, store: MediaStoreDep
) -> ReadyRead | JSONResponse:
    checks: dict[str, CheckState] = {
        "database": "ok" if await _database_up(engine) else "down",
        "media": "ok" if await anyio.to_thread.run_sync(writable, config.media_root) else "down",
    }
    if store.kind != "local":
        checks["bucket"] = "ok" if await _bucket_up(store) else "down"
    down = sorted(name for name, state in checks.items() if state == "down")
    if down:
        return problem_response(
            status=503,
            code="not_ready",
            title="Service not ready",
            detail=f"Not ready: {', '.join(down)} down.",
            instance=request.url.path,
            headers={"Retry-After": "5"},
            extra={"checks": checks},
        )
    return ReadyRead(status="ok", checks=checks)
