"""Guest service: expiry decided at request time from `now`, previews and QR codes."""

import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import segno
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.config import AppConfig
from photochanger.guest import service
from photochanger.models.job import JobStatus
from photochanger.public.service import ResultExpired, ResultNotFound
from tests.support.ci import require_tool
from tests.support.jobs import add_job, jpeg_bytes

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def test_result_is_available_until_and_at_its_expiry_then_gone(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=NOW)
    async with sessionmaker() as session:
        before = await service.get_result(session, job.id, now=NOW - timedelta(hours=71))
        at = await service.get_result(session, job.id, now=NOW)
        with pytest.raises(ResultExpired):
            await service.get_result(session, job.id, now=NOW + timedelta(seconds=1))
    assert before.job_id == at.job_id == job.id
    assert at.expires_at == NOW
    assert at.has_preview


@pytest.mark.parametrize("job_id", ["nope", "0" * 33, "../../etc/passwd", "a b c d e f g h", ""])
async def test_malformed_ids_are_not_found(
    sessionmaker: async_sessionmaker[AsyncSession], job_id: str
) -> None:
    async with sessionmaker() as session:
        with pytest.raises(ResultNotFound):
            await service.get_result(session, job_id, now=NOW)


@pytest.mark.parametrize("status", [JobStatus.pending, JobStatus.failed, JobStatus.timeout])
async def test_jobs_without_a_result_are_not_found(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path, status: JobStatus
) -> None:
    job = await add_job(
        sessionmaker, media_root, expires_at=NOW + timedelta(days=1), status=status, with_result=False
    )
    async with sessionmaker() as session:
        with pytest.raises(ResultNotFound):
            await service.get_result(session, job.id, now=NOW)
        with pytest.raises(ResultNotFound):
            await service.get_result(session, "f" * 32, now=NOW)


async def test_a_cleaned_result_is_gone_even_before_its_expiry(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=NOW + timedelta(days=1), cleaned_at=NOW)
    async with sessionmaker() as session:
        with pytest.raises(ResultExpired):
            await service.get_result(session, job.id, now=NOW)


async def test_preview_is_a_jpeg_with_a_320px_long_side_cached_until_expiry(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path, config: AppConfig
) -> None:
    job = await add_job(
        sessionmaker, media_root, expires_at=NOW + timedelta(hours=2), result=jpeg_bytes(3000, 2000)
    )
    async with sessionmaker() as session:
        image = await service.preview_image(session, config.media_store(), job.id, now=NOW)
    with Image.open(io.BytesIO(image.data)) as img:
        assert img.format == "JPEG"
        assert img.size == (320, 213)
    assert image.media_type == "image/jpeg"
    assert image.max_age == 2 * 3600
    assert len(image.data) < 30_000


async def test_missing_preview_is_rendered_from_the_result(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path, config: AppConfig
) -> None:
    job = await add_job(
        sessionmaker, media_root, expires_at=NOW + timedelta(days=30), result=jpeg_bytes(900, 1600)
    )
    no_expiry = await add_job(sessionmaker, media_root, expires_at=None)
    assert job.preview_path is not None
    (media_root / job.preview_path).unlink()
    async with sessionmaker() as session:
        image = await service.preview_image(session, config.media_store(), job.id, now=NOW)
        assert image.max_age == service.MAX_CACHE_SECONDS
        with pytest.raises(ResultNotFound):  # ingest always sets an expiry; without one nothing is public
            await service.preview_image(session, config.media_store(), no_expiry.id, now=NOW)
        assert job.result_path is not None
        (media_root / job.result_path).unlink()
        with pytest.raises(ResultNotFound):
            await service.preview_image(session, config.media_store(), job.id, now=NOW)
    with Image.open(io.BytesIO(image.data)) as img:
        assert img.size == (180, 320)
    assert not (media_root / job.preview_path).exists()


async def test_preview_of_an_expired_result_is_gone(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path, config: AppConfig
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=NOW)
    async with sessionmaker() as session:
        with pytest.raises(ResultExpired):
            await service.preview_image(
                session, config.media_store(), job.id, now=NOW + timedelta(microseconds=1)
            )
        with pytest.raises(ResultExpired):
            await service.qr_image(session, config, job.id, "png", now=NOW + timedelta(minutes=1))


def _modules_from_png(data: bytes, scale: int, border: int) -> list[list[bool]]:
    """Sample the centre of every module of a rendered QR code: True where it is dark."""
    with Image.open(io.BytesIO(data)) as img:
        gray = img.convert("L")
    size = gray.width // scale - 2 * border
    pixels = gray.tobytes()

    def dark(x: int, y: int) -> bool:
        px, py = (border + x) * scale + scale // 2, (border + y) * scale + scale // 2
        return pixels[py * gray.width + px] < 128

    return [[dark(x, y) for x in range(size)] for y in range(size)]


async def test_png_qr_code_matches_segnos_matrix_for_the_absolute_guest_link(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path, config: AppConfig
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=NOW + timedelta(hours=1))
    async with sessionmaker() as session:
        png = await service.qr_image(session, config, job.id, "png", now=NOW)
    assert png.media_type == "image/png"
    link = f"http://booth.test/r/{job.id}"
    expected = [[bool(v) for v in row] for row in segno.make_qr(link, error="m").matrix]
    assert _modules_from_png(png.data, service.QR_PNG_SCALE, service.QR_BORDER) == expected


async def test_svg_qr_code_is_segnos_rendering_of_the_guest_link(
    sessionmaker: async_sessionmaker[AsyncSession], media_root: Path, config: AppConfig
) -> None:
    job = await add_job(sessionmaker, media_root, expires_at=NOW + timedelta(hours=1))
    async with sessionmaker() as session:
        svg = await service.qr_image(session, config, job.id, "svg", now=NOW)
    link = f"http://booth.test/r/{job.id}"
    known_good = io.BytesIO()
    segno.make_qr(link, error="m").save(
        known_good, kind="svg", border=4, xmldecl=True, svgns=True, omitsize=True, title=link
    )
    assert svg.media_type == "image/svg+xml"
    assert svg.data == known_good.getvalue()
    assert svg.data.startswith(b"<?xml")
    assert b"<svg" in svg.data
    assert link.encode() in svg.data


def test_png_qr_code_decodes_back_to_the_link(tmp_path: Path) -> None:
    zbarimg = require_tool("zbarimg", "zbar-tools decodes the QR code")
    link = "https://photos.example.com/r/" + "a1" * 16
    path = tmp_path / "qr.png"
    path.write_bytes(service.qr_png(link))
    out = subprocess.run(
        [zbarimg, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == link
