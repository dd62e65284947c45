"""Job rows and their media files, made the way the ingest pipeline lays them out, for result-lifecycle tests."""

import io
from datetime import datetime
from pathlib import Path

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.images import thumbnail
from photochanger.models.job import Job, JobStatus, new_job_id

PREVIEW_LONG_SIDE = 320


def jpeg_bytes(width: int = 1200, height: int = 800, color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def write_media(media_root: Path, relpath: str, data: bytes) -> Path:
    path = media_root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def add_job(
    sessionmaker: async_sessionmaker[AsyncSession],
    media_root: Path,
    *,
    expires_at: datetime | None,
    job_id: str | None = None,
    slot_id: str = "slot-001",
    status: JobStatus = JobStatus.done,
    created_at: datetime | None = None,
    cleaned_at: datetime | None = None,
    with_result: bool = True,
    with_preview: bool = True,
    write_files: bool = True,
    result: bytes | None = None,
) -> Job:
    """Insert a job; for a done job also write `results/{slot}/{id}.jpg` and `previews/{slot}/{id}.jpg`."""
    job_id = job_id or new_job_id()
    result_rel = f"results/{slot_id}/{job_id}.jpg" if with_result else None
    preview_rel = f"previews/{slot_id}/{job_id}.jpg" if with_result and with_preview else None
    data = result if result is not None else jpeg_bytes()
    if write_files and result_rel is not None:
        write_media(media_root, result_rel, data)
        if preview_rel is not None:
            write_media(media_root, preview_rel, thumbnail(data, PREVIEW_LONG_SIDE))
    job = Job(
        id=job_id,
        slot_id=slot_id,
        status=status,
        provider="local",
        operation="passthrough",
        sha256="0" * 64,
        input_size=len(data),
        input_type="image/jpeg",
        result_path=result_rel,
        result_type="image/jpeg" if result_rel else None,
        result_size=len(data) if result_rel else None,
        result_expires_at=expires_at,
        preview_path=preview_rel,
        cleaned_at=cleaned_at,
    )
    if created_at is not None:
        job.created_at = created_at
    async with sessionmaker() as session:
        session.add(job)
        await session.commit()
    return job
