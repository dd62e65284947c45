"""Several workers on one port: `/metrics` sums every worker of the node, whichever one answers."""

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.metrics import multiproc
from photochanger.settings import service as settings_service
from tests.ingest.conftest import INGEST_PASSWORD, booth_fields
from tests.support import images
from tests.support.server import config_env, running_server

pytestmark = pytest.mark.slow


async def _set_password(config: AppConfig) -> None:
    engine = create_engine(config.database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
    finally:
        await engine.dispose()


def _sum(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def _done_per_worker(directory: Path, scratch: Path) -> dict[int, float]:
    """Jobs done counted by each worker alone, read from its own value file."""
    counts: dict[int, float] = {}
    for path in directory.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        one = scratch / str(pid)
        one.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, one / path.name)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(one))  # type: ignore[no-untyped-call]
        counts[pid] = sum(
            s.value
            for metric in registry.collect()
            for s in metric.samples
            if s.name == "photochanger_ingest_requests_total" and s.labels.get("outcome") == "done"
        )
    return counts


async def _upload(client: httpx.AsyncClient, url: str, photo: bytes, shot: int) -> int:
    files = {"fileToUpload": ("IMG_0003.JPG", photo, "image/jpeg")}
    # A shot id of its own (no idempotent join), and a fresh connection per upload, so the kernel hands
    # them to whichever worker accepts first.
    fields = booth_fields(id=f"shot-{shot}")
    response = await client.post(url, data=fields, files=files, headers={"Connection": "close"})
    return response.status_code


async def test_two_workers_on_one_port_report_the_nodes_totals_on_every_scrape(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    directory = (config.var_dir / "metrics").resolve()
    directory.mkdir(parents=True)
    stale = directory / "counter_4242.db"
    stale.write_bytes(b"left by an earlier run")
    photo = images.noisy_jpeg(0.3)
    env = config_env(config)
    env.pop(multiproc.ENV, None)
    with running_server(env, tmp_path / "server.log", workers=2) as server:
        assert not stale.exists(), "the multiprocess directory is emptied at start"
        url = f"{server.base_url}/api/ingest/slot-001"
        sent = 0
        per_worker: dict[int, float] = {}
        async with httpx.AsyncClient(timeout=60) as client:
            # Until both workers have run jobs (the kernel spreads concurrent connections; bounded rounds).
            for _ in range(6):
                statuses = await asyncio.gather(*(_upload(client, url, photo, sent + i) for i in range(6)))
                assert statuses == [200] * 6
                sent += 6
                per_worker = _done_per_worker(directory, tmp_path / f"split{sent}")
                if sum(1 for n in per_worker.values() if n > 0) >= 2:
                    break
            assert sum(1 for n in per_worker.values() if n > 0) >= 2, per_worker
            assert sum(per_worker.values()) == sent
            for _ in range(8):
                scrape = await client.get(f"{server.base_url}/metrics", headers={"Connection": "close"})
                assert scrape.status_code == 200
                assert _sum(scrape.text, "photochanger_ingest_requests_total", outcome="done") == sent
                assert _sum(scrape.text, "photochanger_jobs_in_flight") == 0
                # Node-wide gauges appear once, not once per worker.
                assert scrape.text.count("\nphotochanger_database_up ") == 1


def test_the_live_gauges_of_a_dead_worker_are_dropped(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    multiproc.prepare(directory)
    worker = textwrap.dedent(
        """
        from prometheus_client import Gauge
        Gauge("jobs_in_flight", "x", multiprocess_mode="livesum").inc(3)
        """
    )
    env = {**os.environ, multiproc.ENV: str(directory)}
    done = subprocess.run([sys.executable, "-c", worker], env=env, check=True, timeout=30)
    assert done.returncode == 0
    [gauge_file] = directory.glob("gauge_livesum_*.db")
    pid = int(gauge_file.stem.rsplit("_", 1)[1])
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    assert any(s.value == 3 for m in registry.collect() for s in m.samples if s.name == "jobs_in_flight")
    assert multiproc.drop_dead_workers(directory) == [pid]
    assert not list(directory.glob("gauge_livesum_*.db"))
    assert multiproc.drop_dead_workers(directory) == []
