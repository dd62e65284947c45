"""The app with its media in an S3 bucket on a real S3-protocol server (moto's server mode on 127.0.0.1):
booth results and previews, template media, guest downloads by presigned URL, cleanup's batch deletes, the
quota, readiness. Nothing under the media root but upload temp files."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.cleanup.service import run_cleanup
from photochanger.config import AppConfig
from photochanger.core.time import utcnow
from photochanger.models.job import Job, JobStatus
from photochanger.settings import service as settings_service
from tests.ingest.conftest import INGEST_PASSWORD, upload
from tests.support import images
from tests.support.s3 import MotoServer
from tests.support.templates import frame_png, upload_template


@pytest.fixture
def bucket_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def config_overrides(
    moto_server: MotoServer, s3_bucket: str, bucket_options: dict[str, Any]
) -> dict[str, Any]:
    return moto_server.config_overrides(s3_bucket, **bucket_options)


@pytest.fixture
async def booth(app: FastAPI) -> None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    async with maker() as session, session.begin():
        await settings_service.set_ingest_password(session, INGEST_PASSWORD, actor="test")


def local_media(config: AppConfig) -> list[str]:
    """Files under the media root outside temp/ (with the bucket backend there should be none)."""
    root = config.media_root
    if not root.exists():
        return []
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.parts[-2:-1] != ("temp",)
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.usefixtures("booth")
async def test_a_booth_result_goes_to_the_bucket_and_downloads_by_presigned_url(
    client: httpx.AsyncClient, config: AppConfig, moto_server: MotoServer, s3_bucket: str
) -> None:
    shot = await upload(client, images.jpeg(120, 80))
    assert shot.status_code == 200, shot.text
    job_id = shot.headers["x-job-id"]
    assert moto_server.keys(s3_bucket) == [
        "last_shots/slot-001",  # the slot's last booth shot, for the admin's trial runs on any node
        f"previews/slot-001/{job_id}.jpg",
        f"results/slot-001/{job_id}.jpg",
    ]
    assert local_media(config) == []

    download = await client.get(f"/public/results/{job_id}")

    assert download.status_code == 307
    assert download.headers["cache-control"] == "no-store"
    location = download.headers["location"]
    assert location.startswith(f"{moto_server.endpoint}/{s3_bucket}/results/slot-001/{job_id}.jpg?")
    assert "X-Amz-Expires=300" in location
    async with httpx.AsyncClient() as browser:
        fetched = await browser.get(location)
    assert fetched.status_code == 200
    assert fetched.content == shot.content
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["content-disposition"] == f'attachment; filename="photo-{job_id[:8]}.jpg"'
    preview = await client.get(f"/public/results/{job_id}/preview")
    assert preview.status_code == 200
    assert images.decode(preview.content).size == (120, 80)


@pytest.mark.usefixtures("booth")
async def test_a_clean_passthrough_answers_with_the_photo_and_replays_from_the_bucket(
    client: httpx.AsyncClient, config: AppConfig, moto_server: MotoServer, s3_bucket: str
) -> None:
    """A photo that is its own result goes to the bucket as it is; the booth gets its bytes, and a repeat
    of the shot the bucket's copy."""
    photo = images.noisy_jpeg(0.5)
    shot = await upload(client, photo)
    assert shot.status_code == 200, shot.text
    assert shot.content == photo
    assert shot.headers["content-length"] == str(len(photo))
    job_id = shot.headers["x-job-id"]
    assert f"results/slot-001/{job_id}.jpg" in moto_server.keys(s3_bucket)
    assert local_media(config) == []

    again = await upload(client, photo)
    assert again.status_code == 200, again.text
    assert again.headers["x-job-id"] == job_id
    assert again.headers["x-photochanger-replayed"] == "true"
    assert again.content == photo


@pytest.mark.usefixtures("booth")
@pytest.mark.parametrize("bucket_options", [{"s3_presign_ttl_seconds": 0}])
async def test_with_presigning_off_the_app_streams_the_download(
    client: httpx.AsyncClient, moto_server: MotoServer, s3_bucket: str
) -> None:
    shot = await upload(client, images.jpeg(64, 48))
    assert shot.status_code == 200
    job_id = shot.headers["x-job-id"]

    download = await client.get(f"/public/results/{job_id}")

    assert download.status_code == 200
    assert download.content == shot.content
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"] == f'attachment; filename="photo-{job_id[:8]}.jpg"'


@pytest.mark.usefixtures("booth")
async def test_a_result_removed_from_the_bucket_answers_410_not_a_redirect(
    client: httpx.AsyncClient, moto_server: MotoServer, s3_bucket: str
) -> None:
    shot = await upload(client, images.jpeg(64, 48))
    assert shot.status_code == 200
    job_id = shot.headers["x-job-id"]
    moto_server.client().delete_object(Bucket=s3_bucket, Key=f"results/slot-001/{job_id}.jpg")

    assert_problem(await client.get(f"/public/results/{job_id}"), 410, "result_expired")


async def test_template_media_live_in_the_bucket(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    config: AppConfig,
    moto_server: MotoServer,
    s3_bucket: str,
) -> None:
    frame = frame_png()
    created = await upload_template(client, admin_headers, frame)
    assert created.status_code == 201, created.text
    media_id = created.json()["id"]
    assert moto_server.keys(s3_bucket) == [f"templates/{media_id}.png"]
    assert local_media(config) == []

    content = await client.get(f"/api/template-media/{media_id}/content", headers=admin_headers)
    assert content.status_code == 200
    assert content.content == frame
    assert content.headers["content-type"] == "image/png"
    thumb = await client.get(f"/api/template-media/{media_id}/thumbnail", headers=admin_headers)
    assert thumb.status_code == 200
    assert images.decode(thumb.content).size == (100, 80)

    deleted = await client.delete(f"/api/template-media/{media_id}", headers=admin_headers)
    assert deleted.status_code == 204
    assert moto_server.keys(s3_bucket) == []
    assert_problem(
        await client.get(f"/api/template-media/{media_id}/content", headers=admin_headers),
        404,
        "template_media_not_found",
    )


async def test_cleanup_deletes_expired_objects_in_batches_of_at_most_1000(
    app: FastAPI, config: AppConfig, moto_server: MotoServer, s3_bucket: str
) -> None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    engine: AsyncEngine = app.state.engine
    now = utcnow()
    s3 = moto_server.client()
    expired = [f"job{i:05d}-expired-xxxxxxx" for i in range(1001)]
    async with maker() as session:
        for job_id in expired:
            session.add(
                Job(
                    id=job_id,
                    slot_id="slot-001",
                    status=JobStatus.done,
                    provider="local",
                    operation="passthrough",
                    sha256="0" * 64,
                    input_size=1,
                    input_type="image/jpeg",
                    result_path=f"results/slot-001/{job_id}.jpg",
                    result_type="image/jpeg",
                    result_size=1,
                    result_expires_at=now - timedelta(hours=1),
                )
            )
        await session.commit()
    for job_id in expired:
        s3.put_object(Bucket=s3_bucket, Key=f"results/slot-001/{job_id}.jpg", Body=b"x")
    s3.put_object(Bucket=s3_bucket, Key="templates/keep.png", Body=b"t")
    before = moto_server.requests(s3_bucket, "POST", "delete")

    report = await run_cleanup(engine, config, now=now, batch_size=1001)

    assert report.ok, report.errors
    assert (report.expired_jobs, report.jobs_marked_cleaned, report.results_deleted) == (1001, 1001, 1001)
    assert moto_server.keys(s3_bucket) == ["templates/keep.png"]
    assert moto_server.requests(s3_bucket, "POST", "delete") - before == 2  # 1000 keys, then 1


@pytest.mark.usefixtures("booth")
@pytest.mark.parametrize("bucket_options", [{"s3_quota_bytes": 64 * 1024}])
async def test_past_the_bucket_quota_uploads_are_refused_with_507(
    client: httpx.AsyncClient, admin_headers: dict[str, str], moto_server: MotoServer, s3_bucket: str
) -> None:
    moto_server.client().put_object(
        Bucket=s3_bucket, Key="results/slot-001/old.jpg", Body=b"x" * (64 * 1024 - 200)
    )

    shot = await upload(client, images.jpeg(64, 48))
    template = await upload_template(client, admin_headers, frame_png())

    assert_problem(shot, 507, "insufficient_storage")
    assert "quota" in shot.json()["detail"]
    assert_problem(template, 507, "insufficient_storage")
    assert moto_server.keys(s3_bucket) == ["results/slot-001/old.jpg"]


async def test_readiness_reports_the_bucket(client: httpx.AsyncClient) -> None:
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "media": "ok", "bucket": "ok"}


@pytest.mark.parametrize("bucket_options", [{"s3_bucket": "bucket-nobody-made"}])
async def test_a_missing_bucket_makes_the_node_unready(client: httpx.AsyncClient) -> None:
    ready = await client.get("/health/ready")
    assert_problem(ready, 503, "not_ready")
    assert ready.json()["checks"]["bucket"] == "down"
