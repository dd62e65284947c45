"""Asynchronous uploads (202 + polling) and idempotent retries that never call the provider twice."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.models import Job
from photochanger.settings import service as settings_service
from tests.fakes.fixtures import gemini_fake, gemini_server
from tests.fakes.gemini import GeminiFake
from tests.fakes.server import Reply
from tests.ingest.conftest import configure_slot, jobs, upload
from tests.support import images

__all__ = ["gemini_fake", "gemini_server"]

pytestmark = pytest.mark.usefixtures("ingest_password")

SLOT = "slot-006"


@pytest.fixture
def config_overrides(gemini_server: GeminiFake) -> dict[str, Any]:
    return {"gemini_api_key": GeminiFake.api_key, "gemini_base_url": gemini_server.url}


@pytest.fixture
async def gemini_slot(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    await configure_slot(
        sessionmaker, SLOT, provider="gemini", operation="edit", settings={"params": {"prompt": "cartoon"}}
    )
    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"t_sync_response_seconds": 10}, actor="test")
    return SLOT


async def _poll(client: httpx.AsyncClient, location: str, *, until: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(until):
        while True:
            response = await client.get(location)
            assert response.status_code == 200
            body: dict[str, Any] = response.json()
            if body["status"] != "pending":
                return body
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("how", ["prefer", "query"])
async def test_async_upload_answers_202_then_polling_shows_the_result(
    client: httpx.AsyncClient, gemini_fake: GeminiFake, gemini_slot: str, how: str
) -> None:
    gemini_fake.always(Reply.slow(0.5, GeminiFake.image_reply(images.png(30, 20))))
    if how == "prefer":
        response = await client.post(
            f"/api/ingest/{gemini_slot}",
            data={"password": "booth-pass-Ω-2026", "id": "shot-1", "hash": "ab" * 20},
            files={"fileToUpload": ("a.jpg", images.jpeg(), "image/jpeg")},
            headers={"Prefer": "respond-async, wait=0"},
        )
    else:
        response = await upload(client, images.jpeg(), slot=f"{gemini_slot}?mode=async")
    assert response.status_code == 202, response.text
    body = response.json()
    job_id = body["job_id"]
    assert response.headers["location"] == f"/api/jobs/{job_id}"
    assert body["status_url"] == f"http://booth.test/api/jobs/{job_id}"
    assert body["result_url"] == f"http://booth.test/public/results/{job_id}"
    assert body["status"] == "pending"

    final = await _poll(client, response.headers["location"])
    assert final["status"] == "done"
    assert final["mode"] == "async"
    assert final["result_url"] == body["result_url"]
    assert final["duration_ms"] >= 400
    # The id is a capability for the photo, not for the booth layout behind it (issue 15, item 12).
    assert "slot_id" not in final
    assert SLOT not in (await client.get(response.headers["location"])).text
    download = await client.get(f"/public/results/{job_id}")
    assert download.status_code == 200
    assert images.decode(download.content).size == (30, 20)
    assert gemini_fake.count() == 1


async def test_async_failure_is_visible_in_the_job_status(
    client: httpx.AsyncClient, gemini_fake: GeminiFake, gemini_slot: str
) -> None:
    gemini_fake.always(GeminiFake.blocked("PROHIBITED_CONTENT"))
    response = await upload(client, images.jpeg(), slot=f"{gemini_slot}?mode=async")
    assert response.status_code == 202
    final = await _poll(client, response.headers["location"])
    assert (final["status"], final["failure_reason"], final["result_url"]) == (
        "failed",
        "provider_refused",
        None,
    )


async def test_unknown_job_is_404(client: httpx.AsyncClient) -> None:
    for job_id in ("nope", "A" * 22):
        response = await client.get(f"/api/jobs/{job_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "job_not_found"


async def test_a_retried_shot_joins_the_running_job_and_reaches_the_provider_once(
    client: httpx.AsyncClient,
    gemini_fake: GeminiFake,
    gemini_slot: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    gemini_fake.always(Reply.slow(1.0, GeminiFake.image_reply(images.png(40, 30))))
    photo = images.jpeg(50, 40)
    first = asyncio.create_task(upload(client, photo, slot=gemini_slot))
    await asyncio.sleep(0.4)  # the booth timed out on its side and sends the same shot again
    second = await upload(client, photo, slot=gemini_slot)
    original = await first

    assert original.status_code == second.status_code == 200
    assert second.headers["x-job-id"] == original.headers["x-job-id"]
    assert second.headers["x-photochanger-replayed"] == "true"
    assert second.content == original.content
    # Once done, a later retry is answered from the stored result.
    third = await upload(client, photo, slot=gemini_slot)
    assert third.headers["x-job-id"] == original.headers["x-job-id"]
    assert third.content == original.content
    assert gemini_fake.count() == 1
    assert len(await jobs(sessionmaker)) == 1


async def test_idempotency_key_header_with_a_different_file_is_422(
    client: httpx.AsyncClient, gemini_fake: GeminiFake, gemini_slot: str
) -> None:
    headers = {"Idempotency-Key": "booth-7-shot-42"}
    fields = {"password": "booth-pass-Ω-2026"}
    first = await client.post(
        f"/api/ingest/{gemini_slot}",
        data=fields,
        headers=headers,
        files={"fileToUpload": ("a.jpg", images.jpeg(60, 40), "image/jpeg")},
    )
    assert first.status_code == 200
    other = await client.post(
        f"/api/ingest/{gemini_slot}",
        data=fields,
        headers=headers,
        files={"fileToUpload": ("a.jpg", images.jpeg(61, 40), "image/jpeg")},
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_conflict"
    assert gemini_fake.count() == 1


async def test_a_different_photo_under_a_reused_booth_shot_id_is_a_new_shot(
    client: httpx.AsyncClient,
    gemini_fake: GeminiFake,
    gemini_slot: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # The booth's counter restarted (a reinstall, a second PC): same `id` + `hash`, another photo.
    first = await upload(client, images.jpeg(60, 40), slot=gemini_slot)
    other_photo = images.jpeg(61, 40)
    second = await upload(client, other_photo, slot=gemini_slot)
    assert first.status_code == second.status_code == 200, second.text
    assert second.headers["x-job-id"] != first.headers["x-job-id"]
    assert "x-photochanger-replayed" not in second.headers
    assert gemini_fake.count() == 2
    # The new shot took the key over: its own retry replays it.
    retry = await upload(client, other_photo, slot=gemini_slot)
    assert retry.headers["x-job-id"] == second.headers["x-job-id"]
    assert retry.headers["x-photochanger-replayed"] == "true"
    assert gemini_fake.count() == 2
    assert [j.status for j in await jobs(sessionmaker)] == ["done", "done"]


async def test_an_idempotency_key_reused_for_another_photo_after_the_window_is_a_new_shot(
    client: httpx.AsyncClient,
    gemini_fake: GeminiFake,
    gemini_slot: str,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    headers = {"Idempotency-Key": "booth-7-shot-43"}
    fields = {"password": "booth-pass-Ω-2026"}
    first = await client.post(
        f"/api/ingest/{gemini_slot}",
        data=fields,
        headers=headers,
        files={"fileToUpload": ("a.jpg", images.jpeg(60, 40), "image/jpeg")},
    )
    assert first.status_code == 200
    async with sessionmaker() as session, session.begin():
        job = await session.get(Job, first.headers["x-job-id"])
        assert job is not None
        job.created_at = job.created_at - timedelta(hours=2)  # the window is one hour
    later = await client.post(
        f"/api/ingest/{gemini_slot}",
        data=fields,
        headers=headers,
        files={"fileToUpload": ("a.jpg", images.jpeg(61, 40), "image/jpeg")},
    )
    assert later.status_code == 200, later.text
    assert later.headers["x-job-id"] != first.headers["x-job-id"]
    assert gemini_fake.count() == 2


async def test_a_failed_shot_is_processed_afresh_when_retried(
    client: httpx.AsyncClient, gemini_fake: GeminiFake, gemini_slot: str
) -> None:
    gemini_fake.script(
        Reply(status=400, json={"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad"}})
    )
    photo = images.jpeg()
    assert (await upload(client, photo, slot=gemini_slot)).status_code == 502
    retry = await upload(client, photo, slot=gemini_slot)
    assert retry.status_code == 200
    assert gemini_fake.count() == 2
