"""Slot test runs through the real ingest pipeline, the results ZIP, and a frame slot end to end."""

import io
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from photochanger.config import AppConfig
from photochanger.core.limits import Limits
from photochanger.core.time import utcnow
from photochanger.models import Job, JobSource, Slot
from photochanger.settings import service as settings_service
from tests.support import images
from tests.support.jobs import add_job, jpeg_bytes
from tests.support.templates import FRAME_COLOR, frame_png, upload_template

INGEST_PASSWORD = "booth-pass-for-slots"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def all_jobs(app: FastAPI) -> list[Job]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(Job).order_by(Job.created_at))).scalars())


async def post_test_run(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    photo: bytes,
    *,
    slot: str = "slot-001",
    settings: str | None = None,
) -> httpx.Response:
    data = {"settings": settings} if settings is not None else {}
    return await client.post(
        f"/api/slots/{slot}/test-run",
        headers=headers,
        data=data,
        files={"file": ("shot.jpg", photo, "image/jpeg")},
    )


async def test_test_run_uses_the_saved_slot_and_records_a_ui_test_job(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, operator_headers: dict[str, str]
) -> None:
    response = await post_test_run(client, operator_headers, images.jpeg(90, 60))

    assert response.status_code == 200, response.text
    body = response.json()
    job_id = body["job_id"]
    assert body["status"] == "done"
    assert body["content_type"] == "image/jpeg"
    assert body["result_url"] == f"http://booth.test/public/results/{job_id}"
    assert body["preview_url"] == f"http://booth.test/public/results/{job_id}/preview"
    assert body["fallback"] is None
    assert body["duration_ms"] >= 0
    [job] = await all_jobs(app)
    assert (job.id, job.source, job.status) == (job_id, JobSource.ui_test, "done")
    download = await client.get(f"/public/results/{job_id}")
    assert download.status_code == 200
    assert images.decode(download.content).size == (90, 60)
    assert sorted(p.name for p in (config.media_root / "temp").rglob("*") if p.is_file()) == []


async def test_a_switched_off_slot_can_be_test_run_before_it_goes_live(
    app: FastAPI, client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        slot = await session.get(Slot, "slot-014")
        assert slot is not None
        slot.is_active = False
    response = await post_test_run(client, operator_headers, images.jpeg(), slot="slot-014")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"


async def test_test_run_tries_unsaved_settings_without_saving_them(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    settings = '{"operation": "crop", "params": {"aspect_ratio": "1:1"}, "output_format": "png"}'
    response = await post_test_run(client, admin_headers, images.jpeg(90, 60), settings=settings)

    assert response.status_code == 200, response.text
    assert response.json()["content_type"] == "image/png"
    [job] = await all_jobs(app)
    assert (job.provider, job.operation, job.result_type) == ("local", "crop", "image/png")
    result = await client.get(f"/public/results/{job.id}")
    assert images.decode(result.content).size == (60, 60)
    async with app.state.sessionmaker() as session:
        slot = await session.get(Slot, "slot-001")
    assert slot is not None
    assert (slot.operation, slot.version) == ("passthrough", 1)


@pytest.mark.parametrize(
    ("settings", "fields"),
    [
        ('{"operation": "filter", "params": {"name": "neon"}}', ["settings.params.name"]),
        ('{"provider": "nope"}', ["settings.provider"]),
        ('{"colour": "red"}', ["settings.colour"]),
        ("{not json", ["settings"]),
    ],
)
async def test_invalid_test_settings_are_422_per_field(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str], settings: str, fields: list[str]
) -> None:
    body = assert_problem(
        await post_test_run(client, admin_headers, images.jpeg(), settings=settings), 422, "validation_error"
    )
    assert sorted(err["field"] for err in body["errors"]) == fields
    assert await all_jobs(app) == []


async def test_test_run_answers_the_ingest_errors(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert_problem(await post_test_run(client, admin_headers, images.gif()), 415, "unsupported_media_type")
    assert_problem(
        await post_test_run(client, admin_headers, images.jpeg(), slot="slot-077"), 404, "slot_not_found"
    )


async def test_busy_slot_answers_429_to_a_test_run(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, admin_headers: dict[str, str]
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.update(session, {"slot_concurrency": 1}, actor="test")
    async with app.state.limiter.permits("slot-001", "local", Limits(1, 8, 16), wait=0):
        response = await post_test_run(client, admin_headers, images.jpeg())
        body = assert_problem(response, 429, "busy")
        assert response.headers["retry-after"]
        assert "slot-001" in body["detail"]
    assert await all_jobs(app) == []
    assert (await post_test_run(client, admin_headers, images.jpeg())).status_code == 200


async def test_test_run_permissions(
    client: httpx.AsyncClient, operator_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    assert_problem(await post_test_run(client, {}, images.jpeg()), 401, "not_authenticated")
    assert (await post_test_run(client, operator_headers, images.jpeg())).status_code == 200
    assert (await post_test_run(client, admin_headers, images.jpeg())).status_code == 200


async def test_results_zip_holds_exactly_the_unexpired_results_byte_for_byte(
    app: FastAPI, client: httpx.AsyncClient, config: AppConfig, operator_headers: dict[str, str]
) -> None:
    now = utcnow()
    maker, root = app.state.sessionmaker, config.media_root
    later = now + timedelta(hours=5)
    first = await add_job(
        maker, root, expires_at=later, created_at=now - timedelta(hours=3), result=jpeg_bytes(color=(1, 2, 3))
    )
    second = await add_job(
        maker, root, expires_at=later, created_at=now - timedelta(hours=1), result=jpeg_bytes(color=(9, 9, 9))
    )
    await add_job(maker, root, expires_at=now - timedelta(seconds=1), created_at=now - timedelta(hours=2))
    await add_job(maker, root, expires_at=later, cleaned_at=now, write_files=False)
    await add_job(maker, root, expires_at=later, slot_id="slot-002")

    response = await client.get("/api/slots/slot-001/results.zip", headers=operator_headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == 'attachment; filename="slot-001-results.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert len(infos) == 2
        assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
        for info, job in zip(infos, (first, second), strict=True):
            assert job.id in info.filename
            assert archive.read(info) == (root / f"results/slot-001/{job.id}.jpg").read_bytes()

    window = await client.get(
        "/api/slots/slot-001/results.zip",
        headers=operator_headers,
        params={"from": (now - timedelta(hours=2)).isoformat(), "to": now.isoformat()},
    )
    with zipfile.ZipFile(io.BytesIO(window.content)) as archive:
        assert [i.filename for i in archive.infolist()] == [
            n for n in [i.filename for i in infos] if second.id in n
        ]


async def test_results_zip_of_an_empty_slot_is_an_empty_archive(
    client: httpx.AsyncClient, operator_headers: dict[str, str]
) -> None:
    response = await client.get("/api/slots/slot-009/results.zip", headers=operator_headers)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.infolist() == []


async def test_results_zip_errors(client: httpx.AsyncClient, operator_headers: dict[str, str]) -> None:
    assert_problem(await client.get("/api/slots/slot-001/results.zip"), 401, "not_authenticated")
    assert_problem(
        await client.get("/api/slots/slot-042/results.zip", headers=operator_headers), 404, "slot_not_found"
    )
    bad = await client.get("/api/slots/slot-001/results.zip?from=yesterday", headers=operator_headers)
    assert_problem(bad, 422, "validation_error")


async def test_frame_slot_with_an_uploaded_template_frames_a_booth_upload(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    async with app.state.sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")
    media_id = (await upload_template(client, admin_headers, frame_png(100, 80, border=10))).json()["id"]
    saved = await client.put(
        "/api/slots/slot-005",
        headers=admin_headers,
        json={
            "display_name": "Framed",
            "provider": "local",
            "operation": "frame",
            "params": {"frame_media_id": media_id, "fit": "cover"},
            "is_active": True,
            "version": 1,
        },
    )
    assert saved.status_code == 200, saved.text

    photo_color = (240, 200, 10)
    response = await client.post(
        "/api/ingest/slot-005",
        data={"password": INGEST_PASSWORD},
        files={"fileToUpload": ("IMG_1.JPG", images.jpeg(400, 320, color=photo_color), "image/jpeg")},
    )

    assert response.status_code == 200, response.text
    framed = images.decode(response.content).convert("RGB")
    assert framed.size == (100, 80)

    def close(pixel: Any, expected: tuple[int, int, int]) -> bool:
        return all(abs(a - b) <= 12 for a, b in zip(pixel, expected, strict=True))

    assert close(framed.getpixel((3, 3)), FRAME_COLOR)
    assert close(framed.getpixel((96, 76)), FRAME_COLOR)
    assert close(framed.getpixel((70, 50)), photo_color)
