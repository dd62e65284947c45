"""PostgreSQL restarted under load, and SIGKILL at random points of the job lifecycle, against the real server."""

import asyncio
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite
from photochanger.models import Job, JobStatus
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.ingest.conftest import booth_fields
from tests.reliability.conftest import INGEST_PASSWORD, media_files
from tests.support import images
from tests.support.server import config_env, running_server

__all__ = ["gemini_fake", "gemini_server"]

pytestmark = pytest.mark.reliability

PHOTO = images.jpeg(640, 480)


@dataclass
class Outcome:
    at: float
    status: int  # -1: no HTTP answer (connection refused or cut)
    job_id: str | None = None
    body: bytes = b""
    retry_after: str | None = None


def _upload(base_url: str, slot: str, n: int) -> Outcome:
    try:
        response = httpx.post(
            f"{base_url}/api/ingest/{slot}",
            data=booth_fields(INGEST_PASSWORD, id=f"OUT{n:05d}_{os.getpid()}."),
            files={"fileToUpload": ("IMG.JPG", PHOTO, "image/jpeg")},
            timeout=60,
        )
    except httpx.HTTPError:
        return Outcome(time.monotonic(), -1)
    return Outcome(
        time.monotonic(),
        response.status_code,
        response.headers.get("x-job-id"),
        response.content,
        response.headers.get("retry-after"),
    )


class Load:
    """`workers` threads uploading in a loop until stopped."""

    def __init__(self, base_url: str, slot: str, workers: int = 2) -> None:
        self.base_url, self.slot = base_url, slot
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(w,), daemon=True) for w in range(workers)]
        self._lock = threading.Lock()

    def _run(self, worker: int) -> None:
        n = worker * 100_000
        while not self._stop.is_set():
            n += 1
            outcome = _upload(self.base_url, self.slot, n)
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.status == -1:
                time.sleep(0.05)

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)


def _pg_ctl(action: str) -> None:
    tool = shutil.which("pg_ctlcluster")
    assert tool is not None
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run([tool, "--skip-systemctl-redirect", version, "main", action], check=True, timeout=60)


def _pg_up() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


async def _rows(url: str) -> list[Job]:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return list((await session.execute(select(Job))).scalars())
    finally:
        await engine.dispose()


def _check_acknowledged(base_url: str, outcomes: list[Outcome]) -> int:
    """Every 200 the booth got is still downloadable, byte for byte."""
    acknowledged = [o for o in outcomes if o.status == 200]
    for outcome in acknowledged:
        download = httpx.get(f"{base_url}/public/results/{outcome.job_id}", timeout=30)
        assert download.status_code == 200, (outcome.job_id, download.status_code)
        assert download.content == outcome.body
    return len(acknowledged)


def test_postgres_restart_under_load_answers_503_then_recovers_without_losing_acknowledged_jobs(
    config: AppConfig, tmp_path: Path
) -> None:
    if is_sqlite(config.database_url) or not shutil.which("pg_ctlcluster"):
        if os.environ.get("CI") == "true":
            pytest.fail("make test-reliability runs on PostgreSQL with pg_ctlcluster")
        pytest.skip("needs a local PostgreSQL cluster (make test-reliability)")
    with running_server(config_env(config), tmp_path / "server.log", migrate=True) as server:
        base = server.base_url
        try:
            with Load(base, "slot-001") as load:
                time.sleep(2)
                _pg_ctl("stop")
                # Counted from when the stop has completed: uploads answered before that may rightly succeed.
                down_at = time.monotonic()
                time.sleep(4)
                ready_while_down = httpx.get(f"{base}/health/ready", timeout=30).status_code
                # Uploads may succeed as soon as the server accepts again, before pg_ctlcluster returns.
                starting_at = time.monotonic()
                _pg_ctl("start")
                up_at = time.monotonic()
                time.sleep(6)
        finally:
            if not _pg_up():
                _pg_ctl("start")
        outcomes = load.outcomes
        statuses = {o.status for o in outcomes}
        assert statuses <= {200, 503}, (sorted(statuses), server.log()[-3000:])
        during = [o for o in outcomes if down_at + 0.5 < o.at < starting_at]
        assert during, "no upload was answered while PostgreSQL was down"
        assert all(o.status == 503 and o.retry_after for o in during), [
            (round(o.at - down_at, 2), o.status, o.retry_after)
            for o in during
            if o.status != 503 or not o.retry_after
        ]
        assert ready_while_down == 503
        after = [o for o in outcomes if o.at > up_at + 3]
        assert after, "no upload finished after PostgreSQL came back"
        assert all(o.status == 200 for o in after), [o.status for o in after]
        assert _check_acknowledged(base, outcomes) > 0
    rows = asyncio.run(_rows(config.database_url))
    assert [r.id for r in rows if r.status == JobStatus.pending] == []


@pytest.fixture
def config_overrides(config_overrides: dict[str, Any], gemini_server: GeminiFake) -> dict[str, Any]:
    return {**config_overrides, "gemini_api_key": GeminiFake.api_key, "gemini_base_url": gemini_server.url}


def test_sigkill_at_random_points_leaves_only_terminal_jobs_readable_results_and_no_orphans(
    config: AppConfig, tmp_path: Path, gemini_fake: GeminiFake
) -> None:
    rng = random.Random(9)
    gemini_fake.script(
        *[
            Reply.slow(rng.uniform(0.05, 1.5), GeminiFake.image_reply(images.jpeg(320, 240)))
            for _ in range(400)
        ]
    )
    env = config_env(config)
    slot = "slot-003"
    outcomes: list[Outcome] = []
    configured = False
    for round_ in range(5):
        with running_server(env, tmp_path / f"server-{round_}.log", migrate=True) as server:
            if not configured:
                asyncio.run(_gemini_slot(config.database_url, slot))
                configured = True
            with Load(server.base_url, slot, workers=4) as load:
                time.sleep(rng.uniform(0.5, 3.0))
                os.kill(server.proc.pid, signal.SIGKILL)
                server.proc.wait(timeout=10)
            outcomes += load.outcomes
    with running_server(env, tmp_path / "server-final.log", migrate=True) as server:
        # Permits are back: the slot's full concurrency runs at once, nobody is told 429.
        limit = 4
        results: list[Outcome] = []
        threads = [
            threading.Thread(target=lambda n=n: results.append(_upload(server.base_url, slot, 900 + n)))
            for n in range(limit)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [o.status for o in results] == [200] * limit
        assert _check_acknowledged(server.base_url, outcomes) > 0
    rows = asyncio.run(_rows(config.database_url))
    assert [r.id for r in rows if r.status == JobStatus.pending] == []
    done = {r.id: r for r in rows if r.status == JobStatus.done}
    for outcome in outcomes:
        if outcome.status == 200:
            assert outcome.job_id in done
    assert media_files(config.media_root / "temp") == []
    referenced = {
        config.media_root / rel for r in done.values() for rel in (r.result_path, r.preview_path) if rel
    }
    stored = set(media_files(config.media_root / "results")) | set(
        media_files(config.media_root / "previews")
    )
    assert stored - referenced == set(), "orphan result files after SIGKILL"
    assert referenced - stored == set(), "done jobs without their files"


async def _gemini_slot(url: str, slot: str) -> None:
    from sqlalchemy import update

    from photochanger.models import Slot

    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                update(Slot)
                .where(Slot.id == slot)
                .values(provider="gemini", operation="edit", settings={"params": {"prompt": "p"}})
            )
    finally:
        await engine.dispose()
