"""Booth uploads through the ASGI app: the happy path and every documented error, with side effects."""

import hashlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.core.time import utcnow
from photochanger.models import Job
from photochanger.settings import service as settings_service
from tests.ingest.conftest import INGEST_PASSWORD, booth_fields, configure_slot, jobs, upload
from tests.support import images

pytestmark = pytest.mark.usefixtures("ingest_password")


def media_files(config: AppConfig) -> list[str]:
    root = config.media_root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    return body


async def assert_nothing_left(config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    assert await jobs(sessionmaker) == []
    assert media_files(config) == []


async def test_booth_upload_returns_the_processed_jpeg_with_headers(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    photo = images.jpeg(120, 80)
    response = await upload(client, photo, extra_field="kept too")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["cache-control"] == "no-store"
    job_id = response.headers["x-job-id"]
    assert response.headers["x-result-url"] == f"http://booth.test/public/results/{job_id}"
    assert images.decode(response.content).size == (120, 80)

    [job] = await jobs(sessionmaker)
    assert job.id == job_id
    assert len(job_id) == 22
    assert job.status == "done"
    assert job.source == "ingest"
    assert (job.provider, job.operation) == ("local", "passthrough")
    assert job.sha256 == hashlib.sha256(photo).hexdigest()
    assert job.client_hash == "7b6c683e1d3fd29c8701791c54e3c12a236f5a5b"
    assert job.input_size == len(photo)
    assert job.input_type == "image/jpeg"
    expected_meta = {k: v for k, v in booth_fields(extra_field="kept too").items() if k != "password"}
    assert job.booth_meta == expected_meta
    assert job.result_type == "image/jpeg"
    assert job.result_size == len(response.content)
    assert job.finished_at is not None
    assert job.started_at is not None
    assert job.duration_ms is not None
    assert job.result_expires_at is not None
    assert job.result_expires_at - job.finished_at == timedelta(hours=72)
    assert media_files(config) == [f"previews/slot-001/{job_id}.jpg", f"results/slot-001/{job_id}.jpg"]
    assert (config.media_root / f"results/slot-001/{job_id}.jpg").read_bytes() == response.content

    download = await client.get(f"/public/results/{job_id}")
    assert download.status_code == 200
    assert download.content == response.content
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_exif_orientation_is_applied_and_metadata_stripped(client: httpx.AsyncClient) -> None:
    # Orientation 6: the camera was turned 90° clockwise, so the upright image is taller than wide.
    response = await upload(client, images.jpeg(80, 40, orientation=6))
    assert response.status_code == 200
    result = images.decode(response.content)
    assert result.size == (40, 80)
    assert not result.getexif()


@pytest.mark.parametrize(
    ("maker", "filename", "declared"),
    [(images.png, "IMG.PNG", "image/png"), (images.webp, "x.webp", "image/webp")],
)
async def test_png_and_webp_are_accepted_and_answered_as_the_slot_format(
    client: httpx.AsyncClient, maker: Any, filename: str, declared: str
) -> None:
    response = await upload(client, maker(), filename=filename, content_type=declared)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"


async def test_slot_output_format_png_keeps_transparency(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await configure_slot(sessionmaker, "slot-002", settings={"output_format": "png"})
    response = await upload(client, images.png(alpha=True), slot="slot-002", content_type="image/png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert images.decode(response.content).mode == "RGBA"


async def test_unknown_slot_is_404_before_reading_the_body(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert_problem(await upload(client, images.jpeg(), slot="slot-016"), 404, "slot_not_found")
    await assert_nothing_left(config, sessionmaker)


async def test_disabled_slot_is_409(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await configure_slot(sessionmaker, "slot-003", is_active=False)
    assert_problem(await upload(client, images.jpeg(), slot="slot-003"), 409, "slot_disabled")
    await assert_nothing_left(config, sessionmaker)


async def test_wrong_password_is_401_and_leaves_nothing(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert_problem(await upload(client, images.jpeg(), password="guess"), 401, "invalid_password")
    await assert_nothing_left(config, sessionmaker)


async def test_rotated_password_refuses_the_old_one_at_once(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await upload(client, images.jpeg())).status_code == 200  # warms the verification cache
    async with sessionmaker() as session, session.begin():
        await settings_service.set_ingest_password(session, "new-pass", actor="admin")
    assert_problem(await upload(client, images.jpeg()), 401, "invalid_password")
    assert (await upload(client, images.jpeg(), password="new-pass")).status_code == 200


@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("missing password", {"password": None}),
        ("missing file", {"image": None}),
    ],
)
async def test_missing_parts_are_400(
    client: httpx.AsyncClient,
    config: AppConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
    case: str,
    kwargs: dict[str, Any],
) -> None:
    image = kwargs.pop("image", images.jpeg())
    assert_problem(await upload(client, image, **kwargs), 400, "invalid_request")
    await assert_nothing_left(config, sessionmaker)


async def test_two_files_are_400(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    files = [
        ("fileToUpload", ("a.jpg", images.jpeg(), "image/jpeg")),
        ("fileToUpload", ("b.jpg", images.jpeg(), "image/jpeg")),
    ]
    response = await client.post("/api/ingest/slot-001", data=booth_fields(), files=files)
    assert_problem(response, 400, "invalid_request")
    await assert_nothing_left(config, sessionmaker)


async def test_not_multipart_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/ingest/slot-001", json={"password": INGEST_PASSWORD})
    assert_problem(response, 400, "invalid_request")


async def test_body_without_closing_boundary_is_400(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    boundary = "XyZ123"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{INGEST_PASSWORD}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + images.jpeg()
    response = await client.post(
        "/api/ingest/slot-001",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(response, 400, "invalid_request")
    await assert_nothing_left(config, sessionmaker)


async def test_too_many_fields_is_400(client: httpx.AsyncClient) -> None:
    many = {f"f{i}": "x" for i in range(10_000)}
    response = await upload(client, images.jpeg(), **many)
    assert_problem(response, 400, "invalid_request")


async def test_declared_length_over_the_cap_is_413_without_reading(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"upload_max_mb": 1}, actor="test")
    response = await upload(client, images.noisy_jpeg(1.6))
    assert_problem(response, 413, "payload_too_large")
    await assert_nothing_left(config, sessionmaker)


async def test_streamed_file_over_the_slot_cap_is_413(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    await configure_slot(sessionmaker, "slot-004", settings={"size_limit_mb": 1})
    big = images.noisy_jpeg(1.6)

    async def chunks() -> Any:
        # No Content-Length: the cap must be enforced while streaming.
        boundary = "b0undary"
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{INGEST_PASSWORD}\r\n'.encode()
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        "/api/ingest/slot-004",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")
    await assert_nothing_left(config, sessionmaker)


@pytest.mark.parametrize(
    ("data", "filename", "declared"),
    [
        (images.gif(), "IMG_0003.JPG", "image/jpeg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "a.jpg", "image/jpeg"),
        (b"%PDF-1.4 not a photo", "photo.png", "image/png"),
    ],
)
async def test_non_images_are_415_whatever_their_name_says(
    client: httpx.AsyncClient,
    config: AppConfig,
    sessionmaker: async_sessionmaker[AsyncSession],
    data: bytes,
    filename: str,
    declared: str,
) -> None:
    response = await upload(client, data, filename=filename, content_type=declared)
    assert_problem(response, 415, "unsupported_media_type")
    await assert_nothing_left(config, sessionmaker)


async def test_truncated_jpeg_is_422(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    photo = images.noisy_jpeg(0.2)
    assert_problem(await upload(client, photo[: len(photo) // 2]), 422, "invalid_image")
    await assert_nothing_left(config, sessionmaker)


async def test_empty_file_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await upload(client, b""), 422, "invalid_image")


@pytest.mark.parametrize("config_overrides", [{"max_image_pixels": 1_000_000}])
async def test_image_over_the_pixel_cap_is_422_from_the_header(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    response = await upload(client, images.png(1001, 1000), content_type="image/png")
    body = assert_problem(response, 422, "invalid_image")
    assert "pixels" in body["detail"]
    await assert_nothing_left(config, sessionmaker)


async def test_the_password_never_reaches_the_logs(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await upload(client, images.jpeg())
    await upload(client, images.jpeg(), password="wrong-" + INGEST_PASSWORD)
    await upload(client, images.gif())
    assert caplog.records, "the pipeline logs its outcomes"
    assert INGEST_PASSWORD not in caplog.text


async def test_result_is_410_once_expired_even_before_cleanup(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    response = await upload(client, images.jpeg())
    job_id = response.headers["x-job-id"]
    async with sessionmaker() as session, session.begin():
        job = await session.get(Job, job_id)
        assert job is not None
        job.result_expires_at = utcnow() - timedelta(seconds=1)
    expired = await client.get(f"/public/results/{job_id}")
    assert_problem(expired, 410, "result_expired")
    assert (config.media_root / f"results/slot-001/{job_id}.jpg").exists(), "expiry does not need cleanup"


@pytest.mark.parametrize("job_id", ["nope", "A" * 22, "..%2F..%2Fetc%2Fpasswd", "x" * 200])
async def test_unknown_or_malformed_result_ids_are_404_without_internals(
    client: httpx.AsyncClient, job_id: str, config: AppConfig
) -> None:
    response = await client.get(f"/public/results/{job_id}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert str(config.media_root) not in response.text


@pytest.mark.parametrize("config_overrides", [{"accel_redirect_prefix": "/_protected/"}])
async def test_download_hands_off_to_nginx_with_x_accel_redirect(client: httpx.AsyncClient) -> None:
    job_id = (await upload(client, images.jpeg())).headers["x-job-id"]
    response = await client.get(f"/public/results/{job_id}")
    assert response.status_code == 200
    assert response.headers["x-accel-redirect"] == f"/_protected/results/slot-001/{job_id}.jpg"
    assert response.content == b""


async def test_database_outage_is_503_with_retry_after(config: AppConfig, tmp_path: Path) -> None:
    from photochanger.app import create_app

    broken = config.model_copy(
        update={
            "database_url": "postgresql+asyncpg://postgres@127.0.0.1:9/none",
            "db_connect_timeout_seconds": 1.0,
        }
    )
    app = create_app(broken)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await upload(http, images.jpeg())
    body = assert_problem(response, 503, "unavailable")
    assert response.headers["retry-after"] == "5"
    assert "database" in body["detail"]
    assert media_files(broken) == []


@pytest.mark.parametrize("config_overrides", [{"min_free_disk_mb": 1_000_000_000}])
async def test_low_disk_space_is_507_and_nothing_is_written(
    client: httpx.AsyncClient, config: AppConfig, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    assert_problem(await upload(client, images.jpeg()), 507, "insufficient_storage")
    await assert_nothing_left(config, sessionmaker)


async def test_download_expiry_is_decided_at_request_time_inclusive_of_the_instant(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    from photochanger.core.storage import MediaLayout
    from photochanger.public import service as public_service

    job_id = (await upload(client, images.jpeg())).headers["x-job-id"]
    async with sessionmaker() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        assert job.result_expires_at is not None
        expires = job.result_expires_at
        layout = MediaLayout(config.media_root)
        before = await public_service.downloadable(session, layout, job_id, now=expires - timedelta(hours=71))
        at = await public_service.downloadable(session, layout, job_id, now=expires)
        with pytest.raises(public_service.ResultExpired):
            await public_service.downloadable(
                session, layout, job_id, now=expires + timedelta(microseconds=1)
            )
    assert before.size == at.size > 0


async def test_passthrough_keeps_an_upright_jpeg_lossless_and_drops_its_metadata(
    client: httpx.AsyncClient,
) -> None:
    from tests.core.test_images import _jpeg_with_metadata

    photo = _jpeg_with_metadata()
    response = await upload(client, photo)
    assert response.status_code == 200
    assert b"Canon" not in response.content
    assert not images.decode(response.content).getexif()
    # Same compressed scan data: nothing was re-encoded.
    scan = photo[photo.index(b"\xff\xda") :]
    assert response.content.endswith(scan)


@pytest.mark.parametrize(("orientation", "size"), [(1, (320, 160)), (6, (160, 320))])
async def test_preview_is_320px_on_the_long_side_and_upright(
    client: httpx.AsyncClient, config: AppConfig, orientation: int, size: tuple[int, int]
) -> None:
    response = await upload(client, images.jpeg(2000, 1000, orientation=orientation))
    assert response.status_code == 200
    job_id = response.headers["x-job-id"]
    preview = images.decode((config.media_root / f"previews/slot-001/{job_id}.jpg").read_bytes())
    assert preview.size == size
    # The bright block marks the photo's top-left corner: it must land where the upright result has it.
    result = images.decode(response.content).convert("L").resize(size)
    assert abs(preview.convert("L").getpixel((5, 5)) - result.getpixel((5, 5))) < 40  # type: ignore[operator]


async def test_a_flood_is_refused_429_once_the_password_checks_out_before_the_photo_is_read(
    app: Any, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    from contextlib import AsyncExitStack

    from photochanger.core.limits import Limits

    async with sessionmaker() as session, session.begin():
        await settings_service.update(session, {"slot_concurrency": 1}, actor="test")
    sent: list[bytes] = []
    boundary = "flood"
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n{INGEST_PASSWORD}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"\r\n\r\n'.encode(),
        images.jpeg(),
        f"\r\n--{boundary}--\r\n".encode(),
    ]

    async def body() -> Any:
        for chunk in chunks:
            sent.append(chunk)
            yield chunk

    async with AsyncExitStack() as stack:
        # One job running and one more already arriving fill slot-001 twice over (limit 1, factor 2).
        for _ in range(2):
            await stack.enter_async_context(
                app.state.limiter.permits("slot-001", "local", Limits(9, 9, 9), wait=0)
            )
        response = await client.post(
            "/api/ingest/slot-001",
            content=body(),
            headers={"Content-Type": "multipart/form-data; boundary=flood"},
        )
    body_problem = assert_problem(response, 429, "busy")
    assert response.headers["retry-after"]
    assert "slot-001" in body_problem["detail"]
    # An upload counts only once its password checked out (issue 15, item 4): the fields are read, the
    # photo is not.
    assert sent == chunks[:2], "the photo itself was not read"
    await assert_nothing_left(config, sessionmaker)


async def test_a_cached_download_still_expires_at_request_time(
    app: Any, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from photochanger.public import service as public_service

    job_id = (await upload(client, images.jpeg())).headers["x-job-id"]
    assert (await client.get(f"/public/results/{job_id}")).status_code == 200  # now cached
    cache = app.state.result_cache
    ref = cache.get(job_id)
    assert ref is not None
    at = await public_service.find_result(sessionmaker, cache, job_id, now=ref.expires_at)
    assert at == ref
    with pytest.raises(public_service.ResultExpired):
        await public_service.find_result(
            sessionmaker, cache, job_id, now=ref.expires_at + timedelta(seconds=1)
        )
