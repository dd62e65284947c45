"""The booth photo's image pipeline: hostile decodes refused fast, metadata never served, one decode."""

import asyncio
import base64
import stat
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.ingest.pipeline.admission import ANSWER_FACTOR, held_before_inspection
from tests.fakes.gemini import GeminiFake
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images

pytestmark = pytest.mark.usefixtures("ingest_password")
# Half a second of CPU: a 24-megapixel photo decodes in a fraction of it.
DECODE_CPU_SECONDS = 0.5
IMAGE_MEMORY_MB = 16


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {
        "decode_cpu_seconds": DECODE_CPU_SECONDS,
        "image_memory_mb": IMAGE_MEMORY_MB,
        "gemini_api_key": GeminiFake.api_key,
        "gemini_base_url": gemini_server.url,
    }


METADATA = (b"Exif", b"PhoneMaker", b"http://ns.adobe.com/xap", b"8BIM", b"MPF\x00", b"between the scans")


def _assert_nothing_left(config: AppConfig, app: FastAPI) -> None:
    leftovers = [p for p in (config.media_root / "uploads").rglob("*") if p.is_file()]
    assert leftovers == []
    assert app.state.ingest.inflight.used == 0


async def test_a_repeated_scan_bomb_is_refused_422_at_once(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    started = time.monotonic()
    response = await upload(client, images.scan_bomb(1000))
    assert time.monotonic() - started < 5
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_image"
    assert await jobs(sessionmaker) == []
    _assert_nothing_left(config, app)


async def test_a_decode_over_its_cpu_budget_is_refused_422(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    # 95 scans: under the scan cap, but more than a second of CPU for 24 megapixels.
    response = await upload(client, images.scan_bomb(85))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_image"
    assert await jobs(sessionmaker) == []
    _assert_nothing_left(config, app)
    # A normal photo fits the same budget.
    assert (await upload(client, images.jpeg(640, 480), id="NORMAL_1.")).status_code == 200


async def test_a_normal_shot_is_not_starved_by_hostile_ones(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bomb = images.scan_bomb(1000)
    hostile = [upload(client, bomb, id=f"BOMB_{n}.") for n in range(4)]
    started = time.monotonic()
    *refused, normal = await asyncio.gather(*hostile, upload(client, images.jpeg(2000, 1500), id="REAL_1."))
    assert [r.status_code for r in refused] == [422] * 4
    assert normal.status_code == 200
    assert time.monotonic() - started < 10
    assert [j.status for j in await jobs(sessionmaker)] == ["done"]


def _assert_clean(served: bytes, icc: bytes) -> None:
    for needle in METADATA:
        assert needle not in served, needle
    assert served.count(b"\xff\xd8") == 1
    assert served.endswith(b"\xff\xd9")
    decoded = images.decode(served)
    assert not decoded.getexif()
    assert decoded.info.get("icc_profile") == icc


def _mpf_camera_file(icc: bytes) -> bytes:
    return images.with_mpf_preview(images.progressive_jpeg(640, 480, icc_profile=icc, exif=images.gps_exif()))


def _between_scans_file(icc: bytes) -> bytes:
    photo = images.progressive_jpeg(640, 480, icc_profile=icc)
    return images.insert_between_scans(
        photo,
        images.segment(0xE1, b"Exif\x00\x00" + images.gps_exif()),
        images.segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"),
        images.segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00"),
        images.segment(0xFE, b"between the scans"),
    )


@pytest.mark.parametrize(
    "build", [_mpf_camera_file, _between_scans_file], ids=["mpf-appended", "between-scans"]
)
async def test_passthrough_serves_no_metadata_and_keeps_the_icc_profile(
    client: httpx.AsyncClient, build: Any
) -> None:
    icc = images.srgb_icc()
    photo = build(icc)
    assert any(needle in photo for needle in METADATA)
    response = await upload(client, photo)
    assert response.status_code == 200, response.text
    _assert_clean(response.content, icc)
    public = await client.get(f"/public/results/{response.headers['x-job-id']}")
    assert public.status_code == 200
    assert public.content == response.content
    # Lossless: the primary image's first scan is served byte for byte.
    assert images.first_scan(photo) in response.content


async def _gemini_slot(sessionmaker: async_sessionmaker[AsyncSession], fake: GeminiFake) -> str:
    fake.always(GeminiFake.image_reply(images.jpeg(64, 48), "image/jpeg"))
    await configure_slot(
        sessionmaker, "slot-002", provider="gemini", operation="edit", settings={"params": {"prompt": "pop"}}
    )
    return "slot-002"


def _sent_image(fake: GeminiFake) -> bytes:
    part = fake.last().json["contents"][0]["parts"][0]
    return base64.b64decode(part["inline_data"]["data"])


async def test_the_gemini_input_comes_from_the_validation_decode(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], gemini_fake: GeminiFake
) -> None:
    slot = await _gemini_slot(sessionmaker, gemini_fake)
    response = await upload(client, images.jpeg(6000, 4000, orientation=6), slot=slot)
    assert response.status_code == 200, response.text
    sent = images.decode(_sent_image(gemini_fake))
    # Gemini's 1K output at the photo's 2:3 is about 848 x 1264, so the photo goes at 1280 px: from the
    # 1/4-scale decode (1500 x 1000), turned upright, not from a full decode.
    assert sent.size == (853, 1280)
    assert not sent.getexif()


async def test_an_upright_camera_jpeg_within_the_cap_goes_to_gemini_as_it_is(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], gemini_fake: GeminiFake
) -> None:
    slot = await _gemini_slot(sessionmaker, gemini_fake)
    # Within the 1216 px a 4:3 photo goes at for a 1K output.
    photo = images.progressive_jpeg(1200, 900, exif=images.gps_exif())
    response = await upload(client, photo, slot=slot)
    assert response.status_code == 200, response.text
    sent = _sent_image(gemini_fake)
    assert b"PhoneMaker" not in sent
    # Not re-encoded: the compressed scans are the camera's own.
    assert sent[sent.index(b"\xff\xda") :] == photo[photo.index(b"\xff\xda") :]


async def test_the_gemini_input_follows_the_slots_image_size(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], gemini_fake: GeminiFake
) -> None:
    gemini_fake.always(GeminiFake.image_reply(images.jpeg(64, 48), "image/jpeg"))
    params = {"prompt": "pop", "model": "gemini-3-pro-image", "image_size": "2K"}
    await configure_slot(
        sessionmaker, "slot-002", provider="gemini", operation="edit", settings={"params": params}
    )
    response = await upload(client, images.jpeg(6000, 4000), slot="slot-002")
    assert response.status_code == 200, response.text
    # 2K at 3:2 is about 2508 px wide: the 1/2-scale decode (3000 x 2000) fitted to 2560 px.
    assert images.decode(_sent_image(gemini_fake)).size == (2560, 1707)


async def test_a_clean_jpeg_passes_through_as_the_uploaded_file(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    """A photo with no metadata to strip is its own result: the same bytes, kept under the result's name
    instead of a copy written beside it."""
    photo = images.jpeg(640, 480)
    response = await upload(client, photo)
    assert response.status_code == 200, response.text
    assert response.content == photo
    [job] = await jobs(sessionmaker)
    assert job.result_path is not None
    stored = config.media_root / job.result_path
    assert stored.read_bytes() == photo
    # As readable as a written result; once the upload's temp name is gone its only other name is the slot's
    # last booth shot (kept for trial runs): one file on disk, not a copy.
    assert stat.S_IMODE(stored.stat().st_mode) == 0o640
    assert stored.stat().st_nlink == 2
    assert stored.samefile(config.media_root / "last_shots" / "slot-001")
    assert list((config.media_root / "temp").glob("*.upload")) == []
    _assert_nothing_left(config, app)


async def test_a_clean_passthrough_and_its_replay_answer_with_the_stored_file(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    """The booth's answer to a clean passthrough is sent from the result file (the upload, never read back),
    with the headers of any result; a repeat of the shot is answered from that same file."""
    photo = images.noisy_jpeg(1)
    first = await upload(client, photo)
    assert first.status_code == 200, first.text
    [job] = await jobs(sessionmaker)
    assert first.content == photo
    assert first.headers["content-type"] == "image/jpeg"
    assert first.headers["content-length"] == str(len(photo))
    assert first.headers["cache-control"] == "no-store"
    assert first.headers["x-job-id"] == job.id
    assert first.headers["x-result-url"] == f"http://booth.test/public/results/{job.id}"
    assert "x-photochanger-replayed" not in first.headers
    assert job.result_size == len(photo)
    assert job.result_path is not None
    assert (config.media_root / job.result_path).read_bytes() == photo

    again = await upload(client, photo)
    assert again.status_code == 200, again.text
    assert again.content == photo
    assert again.headers["content-length"] == str(len(photo))
    assert again.headers["x-job-id"] == job.id
    assert again.headers["x-photochanger-replayed"] == "true"
    assert len(await jobs(sessionmaker)) == 1
    # The result is still readable through the public link, and nothing of either upload is left behind.
    download = await client.get(f"/public/results/{job.id}")
    assert download.status_code == 200
    assert download.content == photo
    _assert_nothing_left(config, app)


async def test_a_burst_of_big_photos_queues_within_the_memory_budget(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    photo = images.noisy_jpeg(3)
    inflight = app.state.ingest.inflight
    # Each holds about twice its 3 MB for its life: four at once would pass 16 MB, so some wait their turn.
    responses = await asyncio.gather(*(upload(client, photo, id=f"BIG_{n}.") for n in range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert 4 * len(photo) < inflight.peak <= IMAGE_MEMORY_MB * 1024 * 1024
    assert [j.status for j in await jobs(sessionmaker)] == ["done"] * 4
    _assert_nothing_left(config, app)


async def test_the_deadline_from_arrival_bounds_the_wait_for_the_image_pool(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    from photochanger.core.images import IMAGE_LIMITER
    from photochanger.settings import service as settings_service

    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"t_sync_response_seconds": 5}, actor="test")
    holders = [object(), object()]
    for holder in holders:
        await IMAGE_LIMITER.acquire_on_behalf_of(holder)
    try:
        started = time.monotonic()
        response = await upload(client, images.jpeg(640, 480))
        waited = time.monotonic() - started
    finally:
        for holder in holders:
            IMAGE_LIMITER.release_on_behalf_of(holder)
    assert response.status_code == 504
    assert response.json()["code"] == "timeout"
    assert 4.5 < waited < 8
    assert await jobs(sessionmaker) == []
    _assert_nothing_left(config, app)


async def test_an_upload_that_finds_no_memory_before_its_deadline_gets_504(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    from photochanger.settings import service as settings_service

    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"t_sync_response_seconds": 5}, actor="test")
    inflight = app.state.ingest.inflight
    held = await inflight.reserve(inflight.capacity)  # other uploads hold every byte until after the deadline
    try:
        started = time.monotonic()
        response = await upload(client, images.jpeg(640, 480))
        waited = time.monotonic() - started
    finally:
        inflight.release(held)
    assert response.status_code == 504
    assert response.json()["code"] == "timeout"
    assert 4.5 < waited < 8
    assert await jobs(sessionmaker) == []
    _assert_nothing_left(config, app)
    assert (await upload(client, images.jpeg(640, 480), id="AFTER_1.")).status_code == 200


async def test_uploads_waiting_for_memory_count_against_admission(
    app: FastAPI,
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    config: AppConfig,
) -> None:
    from photochanger.settings import service as settings_service

    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"slot_concurrency": 1}, actor="test")
    inflight = app.state.ingest.inflight
    held = await inflight.reserve(inflight.capacity)
    try:
        # Slot limit 1, admission factor 2: two uploads waiting for memory fill the slot.
        waiting = [
            asyncio.create_task(upload(client, images.jpeg(640, 480), id=f"WAIT_{n}.")) for n in range(2)
        ]
        for _ in range(500):  # both read and queued for memory
            if sum(app.state.ingest._checking.values()) == 2:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail("the two uploads never queued for memory")
        refused = await upload(client, images.jpeg(640, 480), id="THIRD_1.")
        assert refused.status_code == 429
        assert refused.json()["code"] == "busy"
    finally:
        inflight.release(held)
    assert [r.status_code for r in await asyncio.gather(*waiting)] == [200, 200]
    assert [j.status for j in await jobs(sessionmaker)] == ["done", "done"]
    _assert_nothing_left(config, app)


def test_a_remote_job_reserves_for_the_input_it_can_send_not_the_whole_photo() -> None:
    twelve_mb = 12_000_000
    # A 6000 x 4000 shot for a 1280 px cap sends at most its 1280 x 854 fit: that, not the file, is held.
    fit = 1280 * 854 * 4
    assert held_before_inspection(twelve_mb, 1280, fit) == ANSWER_FACTOR * fit
    # A photo that goes as it is (its own size bounds the input), and a local operation (photo + result).
    assert held_before_inspection(2_000_000, 1280, 2_000_000) == ANSWER_FACTOR * 2_000_000
    assert held_before_inspection(twelve_mb, None, twelve_mb) == 2 * twelve_mb
