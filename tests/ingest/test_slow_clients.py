"""Hostile and flaky clients over real sockets against the real server: strangers trickling bodies do not
take the booths' places and are cut off by the body-read timeouts; a booth that vanishes mid-upload is one
INFO line and a 499, not a server error."""

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from photochanger.config import AppConfig
from tests.ingest.conftest import INGEST_PASSWORD, booth_fields
from tests.ingest.test_real_server import _jobs, _set_password
from tests.support import images
from tests.support.raw_http import RawResponse, RawUpload, multipart
from tests.support.server import config_env, running_server

URL = "/api/ingest/slot-001"
IDLE, TOTAL = 3.0, 8.0


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"upload_idle_timeout_seconds": IDLE, "upload_total_timeout_seconds": TOTAL}


async def _stranger(base_url: str, kind: str) -> tuple[str, RawResponse | None, float]:
    photo = images.jpeg(200, 150)
    head, rest = multipart("not the password", photo, file_first=kind == "file-first")
    started = time.monotonic()
    upload = await RawUpload.open(base_url, URL, len(head) + len(rest))
    if kind == "fields-trickle":
        sending = asyncio.create_task(upload.trickle(head + rest, every=0.25))
    else:  # the photo trickles: after a wrong password (checked at once), or before any password at all
        await upload.send(head)
        sending = asyncio.create_task(upload.trickle(rest, every=0.25))
    try:
        response: RawResponse | None = await upload.response(within=TOTAL + 5)
    except TimeoutError:
        response = None
    elapsed = time.monotonic() - started
    sending.cancel()
    await upload.close()
    return kind, response, elapsed


async def _booth(http: httpx.AsyncClient, shot: int) -> httpx.Response:
    return await http.post(
        URL,
        data=booth_fields(INGEST_PASSWORD, id=f"CY04N068111304S2L_{shot:08d}."),
        files={"fileToUpload": ("IMG.JPG", images.jpeg(120, 90), "image/jpeg")},
    )


@pytest.mark.slow
async def test_strangers_trickling_bodies_neither_lock_out_the_booths_nor_stay_connected(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    with running_server(config_env(config), tmp_path / "server.log") as server:
        kinds = ["fields-trickle"] * 16 + ["file-first"] * 16 + ["wrong-password-first"] * 3
        strangers = [asyncio.create_task(_stranger(server.base_url, kind)) for kind in kinds]
        await asyncio.sleep(1.0)  # every stranger is connected and streaming
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            together = await asyncio.gather(*(_booth(http, n) for n in range(4)))
            one_by_one = [await _booth(http, n) for n in range(4, 8)]
        results = await asyncio.gather(*strangers)

    # 32 connections still streaming, 4 slot permits (admission at twice that): the booths all got through.
    assert [r.status_code for r in together + one_by_one] == [200] * 8, [
        r.text for r in together + one_by_one
    ]
    for kind, response, elapsed in results:
        assert response is not None, f"{kind}: still connected after {elapsed:.1f}s"
        problem = json.loads(response.body)
        if kind == "wrong-password-first":
            # Refused as soon as the file part began, long before the photo trickled in.
            assert (response.status, problem["code"]) == (401, "invalid_password"), problem
            assert elapsed < TOTAL - 2, elapsed
        else:
            assert (response.status, problem["code"]) == (408, "upload_timeout"), problem
            assert TOTAL - 0.5 < elapsed < TOTAL + 5, (kind, elapsed)
    rows = await _jobs(config)
    assert sorted(j.status for j in rows) == ["done"] * 8
    assert not list((config.media_root / "temp").glob("*"))


@pytest.mark.slow
async def test_a_body_that_stalls_is_cut_off_after_the_idle_timeout(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    head, rest = multipart(INGEST_PASSWORD, images.noisy_jpeg(0.3))
    with running_server(config_env(config), tmp_path / "server.log") as server:
        upload = await RawUpload.open(server.base_url, URL, len(head) + len(rest))
        await upload.send(head + rest[:1000])
        started = time.monotonic()
        response = await upload.response(within=IDLE + 5)
        elapsed = time.monotonic() - started
        await upload.close()
    assert (response.status, json.loads(response.body)["code"]) == (408, "upload_timeout")
    assert IDLE - 0.5 < elapsed < IDLE + 4, elapsed
    assert await _jobs(config) == []
    assert not list((config.media_root / "temp").glob("*"))


def _metric(scrape: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in scrape.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.slow
async def test_a_booth_vanishing_mid_upload_is_one_info_line_and_a_499(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    photo = images.noisy_jpeg(1.0)
    head, rest = multipart(INGEST_PASSWORD, photo)
    env = config_env(config, PHOTOCHANGER_LOG_FORMAT="json")
    with running_server(env, tmp_path / "server.log") as server:
        upload = await RawUpload.open(server.base_url, URL, len(head) + len(rest))
        await upload.send(head + rest[: len(rest) // 2])
        await asyncio.sleep(0.3)
        await upload.close()
        async with asyncio.timeout(10):
            while "client closed the request" not in server.log():  # noqa: ASYNC110 - another process writes it
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            scrape = (await http.get("/metrics")).text
        log = server.log()

    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    closed = [r for r in records if r.get("event") == "client closed the request"]
    assert [(r["level"], r["status"], r["slot_id"]) for r in closed] == [("info", 499, "slot-001")]
    assert "Traceback" not in log
    assert [r for r in records if r.get("level") in ("error", "critical")] == []
    assert _metric(scrape, "photochanger_http_requests_total", status="499") == 1
    assert _metric(scrape, "photochanger_http_requests_total", status="500") == 0
    assert _metric(scrape, "photochanger_ingest_requests_total", outcome="client_closed") == 1
    assert _metric(scrape, "photochanger_http_errors_total", code="internal_error") == 0
    assert await _jobs(config) == []
    assert not list((config.media_root / "temp").glob("*"))


@pytest.mark.slow
async def test_388000_parts_under_one_name_are_refused_fast_and_health_stays_responsive(
    config: AppConfig, tmp_path: Path
) -> None:
    await _set_password(config)
    head, rest = multipart(INGEST_PASSWORD, images.jpeg())
    fields, file_head = head.split(
        b'--rawBoundary5c1d\r\nContent-Disposition: form-data; name="fileToUpload"'
    )
    part = b'--rawBoundary5c1d\r\nContent-Disposition: form-data; name="id"\r\n\r\n1\r\n'
    flood = (
        fields + part * 388_000 + b'--rawBoundary5c1d\r\nContent-Disposition: form-data; name="fileToUpload"'
    )
    flood += file_head + rest

    async def chunks() -> Any:
        for at in range(0, len(flood), 65536):
            yield flood[at : at + 65536]

    latencies: list[float] = []
    done = asyncio.Event()

    async def probe(http: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.monotonic()
            assert (await http.get("/health/live")).status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.01)

    with running_server(config_env(config), tmp_path / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            prober = asyncio.create_task(probe(http))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            response = await http.post(
                URL,
                content=chunks(),
                headers={"Content-Type": "multipart/form-data; boundary=rawBoundary5c1d"},
            )
            elapsed = time.monotonic() - started
            await asyncio.sleep(1.0)
            done.set()
            await prober

    assert (response.status_code, response.json()["code"]) == (400, "invalid_request"), response.text
    assert "parts" in response.json()["detail"]
    # Parsed on the event loop, these parts took 3.7 s and held /health/live as long; margins are wide for
    # a loaded 2-core machine.
    assert elapsed < 3.0, f"refused after {elapsed:.2f}s"
    assert len(latencies) >= 10
    assert max(latencies) < 1.0, f"/health/live took up to {max(latencies) * 1000:.0f} ms"
    assert await _jobs(config) == []
