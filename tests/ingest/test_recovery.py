"""Start-up recovery: jobs and temp files of a dead process are ended and removed; live ones are kept."""

import fcntl
import os
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.app import create_app
from photochanger.config import AppConfig
from photochanger.core.time import utcnow
from photochanger.models import Job
from tests.ingest.conftest import jobs


def _pending(job_id: str, owner: str, age: timedelta = timedelta(seconds=5)) -> Job:
    return Job(
        id=job_id,
        slot_id="slot-001",
        source="ingest",
        status="pending",
        provider="local",
        operation="passthrough",
        booth_meta={},
        sha256="0" * 64,
        input_size=1,
        input_type="image/jpeg",
        owner=owner,
        input_path=f"temp/{owner}.{job_id}.upload",
        created_at=utcnow() - age,
        started_at=utcnow() - age,
    )


async def test_startup_ends_jobs_and_temp_files_of_dead_processes_only(
    app: FastAPI, config: AppConfig, tmp_path: Path
) -> None:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    run_dir = config.var_dir / "run"
    # A live process: holds its lock file.
    live_fd = os.open(run_dir / "aaaa1111.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(live_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    # A dead process: its lock file is left behind but nobody holds it.
    (run_dir / "dead0000.lock").touch()
    temp = config.media_root / "temp"
    temp.mkdir(parents=True, exist_ok=True)
    for name in ("dead0000.J1.upload", "aaaa1111.J2.upload", "gone9999.J3.upload"):
        (temp / name).write_bytes(b"x")
    # J1's process died after writing its result and preview (one still half-written), before the row said
    # done; the live J2 is writing its own right now. A done job's files are not touched.
    results, previews = (
        config.media_root / "results" / "slot-001",
        config.media_root / "previews" / "slot-001",
    )
    results.mkdir(parents=True)
    previews.mkdir(parents=True)
    j1, j2 = "J1" + "a" * 20, "J2" + "a" * 20
    for path in (results / f"{j1}.jpg", previews / f".{j1}.jpg.0a1b2c3d.tmp", results / f"{j2}.jpg",
                 results / "DONEjob.jpg", previews / "DONEjob.jpg"):  # fmt: skip
        path.write_bytes(b"x")
    async with maker() as session, session.begin():
        session.add_all(
            [
                _pending("J1" + "a" * 20, "dead0000"),
                _pending("J2" + "a" * 20, "aaaa1111"),
                _pending("J3" + "a" * 20, "gone9999"),
                _pending("J4" + "a" * 20, "aaaa1111", age=timedelta(minutes=10)),
            ]
        )
    try:
        second = create_app(config)
        async with second.router.lifespan_context(second):
            pass
    finally:
        os.close(live_fd)

    states = {job.id[:2]: (job.status, job.failure_reason) for job in await jobs(maker)}
    assert states == {
        "J1": ("failed", "interrupted"),
        "J2": ("pending", None),
        "J3": ("failed", "interrupted"),
        "J4": ("failed", "interrupted"),
    }
    assert sorted(p.name for p in temp.iterdir()) == ["aaaa1111.J2.upload"]
    assert sorted(p.name for p in results.iterdir()) == ["DONEjob.jpg", f"{j2}.jpg"]
    assert sorted(p.name for p in previews.iterdir()) == ["DONEjob.jpg"]
    assert not (run_dir / "dead0000.lock").exists()
