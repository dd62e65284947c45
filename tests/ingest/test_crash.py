"""A real server process: SIGKILL mid-job then restart recovers everything; SIGTERM lets jobs finish."""

import asyncio
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.models import Slot
from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.ingest.conftest import INGEST_PASSWORD, booth_fields
from tests.ingest.test_real_server import _jobs
from tests.support import images
from tests.support.server import config_env, running_server

__all__ = ["gemini_fake", "gemini_server"]

SLOT = "slot-008"


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {"gemini_api_key": GeminiFake.api_key, "gemini_base_url": gemini_server.url}


async def _prepare(config: AppConfig) -> None:
    engine = create_engine(config.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
            await settings_service.update(session, {"t_sync_response_seconds": 30}, actor="test")
            slot = await session.get(Slot, SLOT)
            assert slot is not None
            slot.provider, slot.operation, slot.settings = "gemini", "edit", {"params": {"prompt": "x"}}
    finally:
        await engine.dispose()


def _post(base_url: str, photo: bytes, out: dict[str, Any], **params: str) -> None:
    try:
        out["response"] = httpx.post(
            f"{base_url}/api/ingest/{SLOT}",
            data=booth_fields(),
            params=params,
            files={"fileToUpload": ("IMG_0001.JPG", photo, "image/jpeg")},
            timeout=60,
        )
    except httpx.HTTPError as exc:
        out["error"] = exc


async def _wait_for_calls(fake: GeminiFake, n: int) -> None:
    async with asyncio.timeout(15):
        while fake.count() < n:  # noqa: ASYNC110 - the fake counts in another thread
            await asyncio.sleep(0.05)


def _temp_files(config: AppConfig) -> list[str]:
    temp = config.media_root / "temp"
    return sorted(p.name for p in temp.iterdir()) if temp.exists() else []


@pytest.mark.slow
async def test_sigkill_mid_job_then_restart_leaves_nothing_pending_and_the_retry_works(
    config: AppConfig, gemini_fake: GeminiFake, tmp_path: Path
) -> None:
    await _prepare(config)
    env = config_env(config)
    photo = images.jpeg(80, 60)
    gemini_fake.script(Reply.slow(25, GeminiFake.image_reply(images.png(20, 20))))
    out: dict[str, Any] = {}
    with running_server(env, tmp_path / "first.log") as server:
        thread = threading.Thread(target=_post, args=(server.base_url, photo, out))
        thread.start()
        await _wait_for_calls(gemini_fake, 1)
        os.kill(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
        thread.join(timeout=30)
    assert "error" in out, "the booth saw the connection drop"
    [job] = await _jobs(config)
    assert job.status == "pending"
    assert _temp_files(config), "the dead process left its upload behind"

    with running_server(env, tmp_path / "second.log") as server:
        [job] = await _jobs(config)
        assert (job.status, job.failure_reason) == ("failed", "interrupted")
        assert _temp_files(config) == []
        retry: dict[str, Any] = {}
        _post(server.base_url, photo, retry)
    assert retry["response"].status_code == 200, (
        retry["response"].text + (tmp_path / "second.log").read_text()
    )
    assert retry["response"].headers["x-job-id"] != job.id
    assert gemini_fake.count() == 2
    statuses = sorted(j.status for j in await _jobs(config))
    assert statuses == ["done", "failed"]


@pytest.mark.slow
async def test_sigterm_lets_running_jobs_finish(
    config: AppConfig, gemini_fake: GeminiFake, tmp_path: Path
) -> None:
    await _prepare(config)
    gemini_fake.always(Reply.slow(1.5, GeminiFake.image_reply(images.png(20, 20))))
    sync_out: dict[str, Any] = {}
    with running_server(config_env(config), tmp_path / "server.log") as server:
        async with httpx.AsyncClient(timeout=30) as http:
            accepted = await http.post(
                f"{server.base_url}/api/ingest/{SLOT}?mode=async",
                data=booth_fields(id="async-shot"),
                files={"fileToUpload": ("a.jpg", images.jpeg(), "image/jpeg")},
            )
        assert accepted.status_code == 202
        thread = threading.Thread(target=_post, args=(server.base_url, images.jpeg(70, 50), sync_out))
        thread.start()
        await _wait_for_calls(gemini_fake, 2)
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        thread.join(timeout=30)
        server.proc.wait(timeout=30)
        stopped_after = time.monotonic() - started
    assert sync_out["response"].status_code == 200
    # Uvicorn re-raises the signal after a clean shutdown, so the exit status reports SIGTERM.
    assert server.proc.returncode in (0, -signal.SIGTERM)
    assert stopped_after < 10
    assert sorted(j.status for j in await _jobs(config)) == ["done", "done"]
    assert _temp_files(config) == []


@pytest.mark.slow
async def test_booth_disconnecting_mid_processing_leaves_a_finished_job_and_permits_back(
    config: AppConfig, gemini_fake: GeminiFake, tmp_path: Path
) -> None:
    await _prepare(config)
    gemini_fake.always(Reply.slow(1.5, GeminiFake.image_reply(images.png(20, 20))))
    with running_server(config_env(config), tmp_path / "server.log") as server:
        async with httpx.AsyncClient(timeout=0.5) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.post(
                    f"{server.base_url}/api/ingest/{SLOT}",
                    data=booth_fields(),
                    files={"fileToUpload": ("a.jpg", images.jpeg(), "image/jpeg")},
                )
        # The booth is gone; the job still ends, and its permits come back.
        async with asyncio.timeout(15), httpx.AsyncClient(timeout=5) as http:
            while True:
                jobs = await _jobs(config)
                metrics = (await http.get(f"{server.base_url}/metrics")).text
                if jobs and jobs[0].status != "pending" and "photochanger_jobs_in_flight 0.0" in metrics:
                    break
                await asyncio.sleep(0.1)
    [job] = await _jobs(config)
    assert job.status == "done"
    assert _temp_files(config) == []
