"""Two app nodes (separate processes, ports, var dirs and media roots) behind the real nginx on one PostgreSQL,
with their media in one S3 bucket on a real S3-protocol server (moto): limits, crashes, metrics, live updates,
idempotency and media hold across nodes. PostgreSQL only: SQLite is one process."""

import asyncio
import re
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import func, select

from photochanger.cleanup.service import CleanupBusy, cleanup_lock
from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite
from photochanger.models import Job, PermitLease, Slot
from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.images import RESULT_PNG
from tests.fakes.server import Reply
from tests.ingest.conftest import booth_fields
from tests.support import images
from tests.support.ci import require_tool
from tests.support.nginx import render_site_conf, self_signed, start_on_free_ports, stop
from tests.support.s3 import MotoServer
from tests.support.server import ServerProcess, config_env, free_port, running_server

__all__ = ["gemini_fake", "gemini_server"]

pytestmark = pytest.mark.slow

SLOT = "slot-005"
PASSWORD = "cluster-booth-pass-2026"
ADMIN_PASSWORD = "cluster-admin-pass-2026"
NODE_TTL = 4.0
HEARTBEAT = 1.0
PHOTO = images.noisy_jpeg(0.3)


@dataclass
class Cluster:
    nodes: list[ServerProcess]
    nginx_url: str
    cert: Path
    config: AppConfig
    moto: MotoServer
    bucket: str

    def via_nginx(self) -> httpx.AsyncClient:
        context = ssl.create_default_context(cafile=str(self.cert))
        return httpx.AsyncClient(base_url=self.nginx_url, verify=context, timeout=60)


async def _db(config: AppConfig, statement: Any) -> Any:
    engine = create_engine(config.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return (await session.execute(statement)).all()
    finally:
        await engine.dispose()


async def _prepare(config: AppConfig, slot_concurrency: int) -> None:
    engine = create_engine(config.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await settings_service.set_ingest_password(session, PASSWORD, actor="test")
            await settings_service.update(
                session, {"slot_concurrency": slot_concurrency, "t_sync_response_seconds": 60}, actor="test"
            )
            slot = await session.get(Slot, SLOT)
            assert slot is not None
            slot.provider, slot.operation = "gemini", "edit"
            slot.settings = {"params": {"prompt": "pop"}}
    finally:
        await engine.dispose()


@pytest.fixture
def cluster(
    config: AppConfig, tmp_path: Path, gemini_server: GeminiFake, moto_server: MotoServer, s3_bucket: str
) -> Iterator[Cluster]:
    if is_sqlite(config.database_url):
        pytest.skip("several nodes need PostgreSQL")
    nginx = require_tool("nginx", "the cluster tests run the real nginx")
    openssl = require_tool("openssl", "makes the test's TLS certificate")
    asyncio.run(_prepare(config, slot_concurrency=2))
    workdir = tmp_path / "nginx"
    workdir.mkdir()
    cert, key = self_signed(openssl, workdir)
    ports = [free_port(), free_port()]
    config.media_root.mkdir(parents=True, exist_ok=True)
    bucket = {
        f"PHOTOCHANGER_{name.upper()}": value.get_secret_value()
        if isinstance(value, SecretStr)
        else str(value)
        for name, value in moto_server.config_overrides(s3_bucket).items()
    }
    with ExitStack() as stack:
        nodes = []
        for index, port in enumerate(ports):
            var_dir = tmp_path / f"var-{index}"  # as if on its own host: its own locks and metrics
            env = config_env(
                config,
                **bucket,
                # Its own disk, too: only upload temp files stay there; the media are in the shared bucket.
                PHOTOCHANGER_MEDIA_ROOT=str(tmp_path / f"media-{index}"),
                PHOTOCHANGER_VAR_DIR=str(var_dir),
                PHOTOCHANGER_GEMINI_API_KEY=GeminiFake.api_key,
                PHOTOCHANGER_GEMINI_BASE_URL=gemini_server.url,
                PHOTOCHANGER_NODE_TTL_SECONDS=str(NODE_TTL),
                PHOTOCHANGER_NODE_HEARTBEAT_SECONDS=str(HEARTBEAT),
                PHOTOCHANGER_PERMIT_WAIT_SECONDS="20",
                PHOTOCHANGER_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
            )
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)
            nodes.append(stack.enter_context(running_server(env, tmp_path / f"node-{index}.log", port=port)))

        def site_conf(http_port: int, https_port: int) -> str:
            return render_site_conf(
                http_port=http_port, https_port=https_port, app_ports=ports,
                media_root=config.media_root, cert=cert, key=key, log_dir=workdir,
            )  # fmt: skip

        proc, _http_port, https_port = start_on_free_ports(nginx, workdir, site_conf)
        stack.callback(stop, proc)
        yield Cluster(nodes, f"https://127.0.0.1:{https_port}", cert, config, moto_server, s3_bucket)


async def _upload(client: httpx.AsyncClient, url: str, shot: str) -> httpx.Response:
    files = {"fileToUpload": ("IMG_0003.JPG", PHOTO, "image/jpeg")}
    return await client.post(url, data=booth_fields(PASSWORD, id=shot), files=files)


def _done(text: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "photochanger_ingest_requests_total" and s.labels.get("slot") == SLOT
        and s.labels.get("outcome") == "done"
    )  # fmt: skip


async def test_the_slot_limit_holds_across_nodes_and_metrics_add_up_to_the_jobs_run(
    cluster: Cluster, gemini_fake: GeminiFake
) -> None:
    assert gemini_fake.in_flight == 0
    gemini_fake.always(Reply.slow(1.0, GeminiFake.image_reply(RESULT_PNG)), times=8)
    async with cluster.via_nginx() as client:
        responses = await asyncio.gather(
            *(_upload(client, f"/api/ingest/{SLOT}", f"limit-{i}") for i in range(8))
        )
    assert [r.status_code for r in responses] == [200] * 8, [r.text[:200] for r in responses]
    # The provider itself never saw more than slot_concurrency=2 calls at once, though both nodes ran jobs.
    assert gemini_fake.max_in_flight == 2
    assert gemini_fake.count() == 8
    owners = {row[0] for row in await _db(cluster.config, select(Job.owner).where(Job.slot_id == SLOT))}
    assert len(owners) == 2, owners
    async with httpx.AsyncClient(timeout=10) as direct:
        per_node = [_done((await direct.get(f"{node.base_url}/metrics")).text) for node in cluster.nodes]
    assert sum(per_node) == 8, per_node
    assert all(n > 0 for n in per_node), per_node
    [(leases,)] = await _db(cluster.config, select(func.count()).select_from(PermitLease))
    assert leases == 0


async def test_a_result_made_on_one_node_downloads_from_the_other_through_the_bucket(
    cluster: Cluster, gemini_fake: GeminiFake, tmp_path: Path
) -> None:
    node_a, node_b = cluster.nodes
    gemini_fake.always(GeminiFake.image_reply(RESULT_PNG), times=1)
    async with httpx.AsyncClient(timeout=60) as direct:
        shot = await _upload(direct, f"{node_a.base_url}/api/ingest/{SLOT}", "bucket-1")
        assert shot.status_code == 200, shot.text
        job_id = shot.headers["x-job-id"]
        key = f"results/{SLOT}/{job_id}.jpg"
        assert key in cluster.moto.keys(cluster.bucket)
        # Neither node keeps a result on its own disk: node B can only have it from the bucket.
        assert not [
            p for i in (0, 1) for p in (tmp_path / f"media-{i}").rglob("*.jpg") if "temp" not in p.parts
        ]

        download = await direct.get(f"{node_b.base_url}/public/results/{job_id}")
        assert download.status_code == 307, download.text
        location = download.headers["location"]
        assert location.startswith(f"{cluster.moto.endpoint}/{cluster.bucket}/{key}?")
        fetched = await direct.get(location)
        assert fetched.status_code == 200
        assert fetched.content == shot.content
        assert fetched.headers["content-disposition"] == f'attachment; filename="photo-{job_id[:8]}.jpg"'
        preview = await direct.get(f"{node_b.base_url}/public/results/{job_id}/preview")
        assert preview.status_code == 200
        assert preview.headers["content-type"] == "image/jpeg"
        ready = [
            (await direct.get(f"{node.base_url}/health/ready")).json()["checks"] for node in cluster.nodes
        ]
    async with cluster.via_nginx() as client:
        via_nginx = await client.get(f"/public/results/{job_id}")
    assert via_nginx.status_code == 307
    assert via_nginx.headers["location"].startswith(f"{cluster.moto.endpoint}/{cluster.bucket}/{key}?")
    assert ready == [{"database": "ok", "media": "ok", "bucket": "ok"}] * 2


async def _admin_client(base_url: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    page = await client.get("/admin/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    response = await client.post(
        "/admin/login",
        data={"csrf": match.group(1), "username": "admin", "password": ADMIN_PASSWORD, "next": "/admin"},
    )
    assert response.status_code == 303, response.text
    return client


async def _events(response: httpx.Response) -> AsyncIterator[str]:
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            event, buffer = buffer.split("\n\n", 1)
            yield event


async def test_the_dashboard_stream_on_one_node_shows_a_job_that_ran_on_the_other(
    cluster: Cluster, gemini_fake: GeminiFake
) -> None:
    node_a, node_b = cluster.nodes
    admin = await _admin_client(node_a.base_url)
    try:
        async with admin.stream("GET", f"/admin/events?slot={SLOT}") as stream:
            assert stream.status_code == 200
            events = _events(stream)
            assert (await anext(events)).startswith("retry:")
            first = await asyncio.wait_for(anext(events), 10)
            assert first.startswith("event: state")
            async with httpx.AsyncClient(timeout=60) as booth:
                done = await _upload(booth, f"{node_b.base_url}/api/ingest/{SLOT}", "dashboard-1")
            assert done.status_code == 200
            job_id = done.headers["x-job-id"]
            started = time.monotonic()
            while True:
                event = await asyncio.wait_for(anext(events), 10)
                if event.startswith("event: state") and job_id in event:
                    break
            # Woken by the notification, not by the 15 s backstop re-read.
            assert time.monotonic() - started < 12
    finally:
        await admin.aclose()


async def test_a_node_killed_mid_job_gives_its_permit_back_and_the_other_keeps_serving(
    cluster: Cluster, gemini_fake: GeminiFake
) -> None:
    _, node_b = cluster.nodes
    engine = create_engine(cluster.config.database_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await settings_service.update(session, {"slot_concurrency": 1}, actor="test")
    finally:
        await engine.dispose()
    # Longer than the kill, the reaping and the uploads after it; short enough to wait out at the end.
    gemini_fake.script(Reply.slow(12, GeminiFake.image_reply(RESULT_PNG)))
    booth = httpx.AsyncClient(timeout=90)
    stuck = asyncio.create_task(_upload(booth, f"{node_b.base_url}/api/ingest/{SLOT}", "killed-1"))
    try:
        for _ in range(200):
            if gemini_fake.count() == 1:
                break
            await asyncio.sleep(0.05)
        assert gemini_fake.count() == 1
        [(leases,)] = await _db(cluster.config, select(func.count()).select_from(PermitLease))
        assert leases == 1
        node_b.proc.kill()  # SIGKILL: no shutdown, no release
        node_b.proc.wait(timeout=10)
        killed_at = time.monotonic()
        with pytest.raises(httpx.HTTPError):
            await stuck
        # Node A reaps the dead node within its TTL plus a heartbeat (a few more here for a loaded machine).
        while True:
            rows = await _db(
                cluster.config, select(Job.status, Job.failure_reason).where(Job.slot_id == SLOT)
            )
            if rows and all(status != "pending" for status, _ in rows):
                break
            assert time.monotonic() - killed_at < NODE_TTL + 5 * HEARTBEAT, rows
            await asyncio.sleep(0.2)
        assert [tuple(r) for r in rows] == [("failed", "interrupted")]
        [(leases,)] = await _db(cluster.config, select(func.count()).select_from(PermitLease))
        assert leases == 0
        # The slot's only permit is free again, and nginx sends every new upload to the live node.
        async with cluster.via_nginx() as client:
            for i in range(3):
                response = await _upload(client, f"/api/ingest/{SLOT}", f"after-kill-{i}")
                assert response.status_code == 200, response.text
    finally:
        if not stuck.done():
            stuck.cancel()
        await booth.aclose()
        # The abandoned call ends in the fake too, so no later test counts it as one of its own.
        for _ in range(300):
            if gemini_fake.in_flight == 0:
                break
            await asyncio.sleep(0.05)
    rows = await _db(cluster.config, select(Job.owner, Job.status).where(Job.slot_id == SLOT))
    dead_owner = {owner for owner, status in rows if status == "failed"}
    served_by = {owner for owner, status in rows if status == "done"}
    assert len([1 for _, status in rows if status == "done"]) == 3
    assert len(served_by) == 1
    assert not served_by & dead_owner


async def test_a_repeat_sent_to_the_other_node_joins_the_original_job(
    cluster: Cluster, gemini_fake: GeminiFake
) -> None:
    node_a, node_b = cluster.nodes
    gemini_fake.always(Reply.slow(1.5, GeminiFake.image_reply(RESULT_PNG)), times=2)
    async with httpx.AsyncClient(timeout=60) as booth:
        first = asyncio.create_task(_upload(booth, f"{node_a.base_url}/api/ingest/{SLOT}", "same-shot"))
        for _ in range(500):  # the original is with the provider (count: this test's requests only)
            if gemini_fake.count():
                break
            await asyncio.sleep(0.02)
        repeat = await _upload(booth, f"{node_b.base_url}/api/ingest/{SLOT}", "same-shot")
        original = await first
    assert (original.status_code, repeat.status_code) == (200, 200)
    assert repeat.headers["x-job-id"] == original.headers["x-job-id"]
    assert repeat.headers.get("x-photochanger-replayed") == "true"
    assert repeat.content == original.content
    assert gemini_fake.count() == 1


async def test_the_cleanup_lock_is_one_for_every_node(cluster: Cluster) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        login = await http.post(
            f"{cluster.nodes[0].base_url}/api/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        engine = create_engine(cluster.config.database_url, pool_size=1)
        try:
            # A run elsewhere (this process, as a third node or the systemd timer) holds the lock...
            async with cleanup_lock(engine, cluster.config):
                for node in cluster.nodes:
                    busy = await http.post(f"{node.base_url}/api/media/cleanup", headers=headers)
                    assert busy.status_code == 409, busy.text
                    assert busy.json()["code"] == CleanupBusy.code
        finally:
            await engine.dispose()
        # ... and once it is released, a node runs.
        done = await http.post(f"{cluster.nodes[1].base_url}/api/media/cleanup", headers=headers)
        assert done.status_code == 200, done.text
