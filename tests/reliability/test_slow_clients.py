"""Slow, stalled and vanishing clients against the real server: a booth still gets its photo, the strangers
are cut off by the body-read timeouts, and a dropped upload is a 499 at INFO, never a server error."""

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ingest.conftest import booth_fields
from tests.reliability.conftest import INGEST_PASSWORD
from tests.support import images
from tests.support.raw_http import RawUpload, multipart
from tests.support.server import ServerProcess

pytestmark = pytest.mark.reliability

URL = "/api/ingest/slot-001"
IDLE, TOTAL = 2.0, 5.0


@pytest.fixture
def config_overrides(config_overrides: dict[str, Any]) -> dict[str, Any]:
    return {
        **config_overrides,
        "upload_idle_timeout_seconds": IDLE,
        "upload_total_timeout_seconds": TOTAL,
        "log_format": "json",
    }


async def _trickle(server: ServerProcess, *, file_first: bool, stall: bool) -> tuple[int, str]:
    head, rest = multipart("a wrong guess", images.jpeg(100, 80), file_first=file_first)
    upload = await RawUpload.open(server.base_url, URL, len(head) + len(rest))
    if stall:
        await upload.send(head[:50])
        sending = None
    else:
        sending = asyncio.create_task(upload.trickle(head + rest, every=0.2))
    try:
        response = await upload.response(within=TOTAL + 5)
    finally:
        if sending is not None:
            sending.cancel()
        await upload.close()
    return response.status, json.loads(response.body)["code"]


async def test_trickling_and_stalled_strangers_are_cut_off_while_a_booth_gets_its_photo(
    server: ServerProcess,
) -> None:
    strangers = [
        asyncio.create_task(_trickle(server, file_first=n % 2 == 0, stall=n % 3 == 0)) for n in range(24)
    ]
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        booths = await asyncio.gather(
            *(
                http.post(
                    URL,
                    data=booth_fields(INGEST_PASSWORD, id=f"shot-{n}"),
                    files={"fileToUpload": ("IMG.JPG", images.jpeg(), "image/jpeg")},
                )
                for n in range(6)
            )
        )
    assert [b.status_code for b in booths] == [200] * 6, [b.text for b in booths]
    assert await asyncio.gather(*strangers) == [(408, "upload_timeout")] * 24


async def test_a_booth_dropping_its_upload_is_a_499_at_info_without_traceback(
    server: ServerProcess, tmp_path: Path
) -> None:
    head, rest = multipart(INGEST_PASSWORD, images.noisy_jpeg(0.5))
    for _ in range(3):
        upload = await RawUpload.open(server.base_url, URL, len(head) + len(rest))
        await upload.send(head + rest[: len(rest) // 3])
        await upload.close()
    async with asyncio.timeout(10):
        while server.log().count("client closed the request") < 3:  # noqa: ASYNC110 - another process logs
            await asyncio.sleep(0.05)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        scrape = (await http.get("/metrics")).text
    log = server.log()
    assert "Traceback" not in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert [r["level"] for r in records if r.get("event") == "client closed the request"] == ["info"] * 3
    assert not [r for r in records if r.get("level") == "error"]
    assert 'status="499"} 3.0' in scrape
    assert 'status="500"}' not in scrape
