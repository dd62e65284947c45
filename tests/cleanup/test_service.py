"""Cleanup on a prepared media tree: expired, live, orphan and temp files, on the selected database."""

import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.cleanup import service
from photochanger.cleanup.service import CleanupBusy, run_cleanup
from photochanger.config import AppConfig
from photochanger.core.db import create_engine, create_sessionmaker
from photochanger.core.time import utcnow
from photochanger.models import LoginAttempt
from photochanger.models.job import Job, JobStatus
from photochanger.users.throttle import ATTEMPT_RETENTION
from tests.support.jobs import add_job, write_media

NOW = utcnow().replace(microsecond=0)
OLD = (NOW - timedelta(hours=1)).timestamp()


@pytest.fixture
async def engine(config: AppConfig) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(config.database_url, pool_size=2)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


def _age_everything(root: Path) -> None:
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            os.utime(Path(dirpath) / name, (OLD, OLD))


def _touch(path: Path, age: timedelta) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 10)
    stamp = (NOW - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


@dataclass
class Tree:
    expired: list[Job]
    expired_gone: Job
    live: list[Job]
    live_missing: Job
    pending: Job
    orphans: list[str]
    young_orphan: Path
    old_temp: list[Path]
    young_temp: Path
    template: Path


async def _prepare(sessionmaker: async_sessionmaker[AsyncSession], root: Path) -> Tree:
    expired = [
        await add_job(sessionmaker, root, expires_at=NOW - timedelta(hours=h), slot_id=f"slot-00{h}")
        for h in (1, 2, 3)
    ]
    expired_gone = await add_job(sessionmaker, root, expires_at=NOW - timedelta(days=2), write_files=False)
    live = [
        await add_job(sessionmaker, root, expires_at=NOW + timedelta(hours=5)),
        await add_job(sessionmaker, root, expires_at=NOW, slot_id="slot-002"),  # available until this instant
    ]
    live_missing = await add_job(sessionmaker, root, expires_at=NOW + timedelta(days=1), write_files=False)
    pending = await add_job(sessionmaker, root, expires_at=None, status=JobStatus.pending, with_result=False)
    orphans = ["previews/slot-004/noRowForThisFile0000.jpg", "results/slot-004/noRowForThisFile0000.png"]
    for rel in orphans:
        write_media(root, rel, b"orphan")
    template = write_media(root, "templates/slot-001/background.png", b"template")
    _age_everything(root)
    young_orphan = _touch(root / "results/slot-005/beingWrittenNow000000.jpg", timedelta(seconds=5))
    old_temp = [
        _touch(root / "temp/abandonedUpload0000001.upload", timedelta(seconds=301)),
        _touch(root / "temp/sub/partial.tmp", timedelta(hours=3)),
        _touch(root / f"results/slot-001/.{live[0].id}.jpg.1a2b3c4d.tmp", timedelta(minutes=10)),
    ]
    young_temp = _touch(root / "temp/inFlightUpload00000001.upload", timedelta(seconds=119))
    return Tree(
        expired,
        expired_gone,
        live,
        live_missing,
        pending,
        orphans,
        young_orphan,
        old_temp,
        young_temp,
        template,
    )


def _files_of(root: Path, job: Job) -> list[Path]:
    return [root / rel for rel in (job.result_path, job.preview_path) if rel is not None]


async def _cleaned_at(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, datetime | None]:
    async with sessionmaker() as session:
        return {
            row.id: row.cleaned_at for row in (await session.execute(select(Job.id, Job.cleaned_at))).all()
        }


async def test_counts_on_a_prepared_tree_dry_run_then_real_then_idempotent(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    root = config.media_root
    tree = await _prepare(sessionmaker, root)
    live_files = [p for job in tree.live for p in _files_of(root, job)]
    expired_files = [p for job in tree.expired for p in _files_of(root, job)]
    expected_bytes = sum(p.stat().st_size for p in expired_files)
    expected_orphans = sorted(tree.orphans)
    expected_missing = sorted(f"job {tree.live_missing.id}: {rel}" for rel in _rels(tree.live_missing))

    dry = await run_cleanup(engine, config, now=NOW, dry_run=True, batch_size=2)
    assert (dry.expired_jobs, dry.jobs_marked_cleaned) == (4, 4)
    assert (dry.results_deleted, dry.previews_deleted, dry.files_already_gone) == (3, 3, 2)
    assert dry.temp_files_deleted == 3
    assert dry.orphan_files == expected_orphans
    assert dry.missing_files == expected_missing
    assert dry.ok
    assert all(
        p.exists() for p in [*expired_files, *live_files, *tree.old_temp, tree.young_temp, tree.template]
    )
    assert set((await _cleaned_at(sessionmaker)).values()) == {None}

    real = await run_cleanup(engine, config, now=NOW, batch_size=2)
    assert (real.expired_jobs, real.jobs_marked_cleaned) == (4, 4)
    assert (real.results_deleted, real.previews_deleted, real.files_already_gone) == (3, 3, 2)
    assert real.bytes_freed == dry.bytes_freed == expected_bytes
    assert real.temp_files_deleted == 3
    assert real.orphan_files == expected_orphans
    assert real.missing_files == expected_missing
    assert real.ok
    assert not any(p.exists() for p in [*expired_files, *tree.old_temp])
    assert all(p.exists() for p in [*live_files, tree.young_temp, tree.template, tree.young_orphan])
    assert all((root / rel).exists() for rel in tree.orphans)  # reported, never deleted
    cleaned = await _cleaned_at(sessionmaker)
    assert {job_id for job_id, at in cleaned.items() if at is not None} == {
        *(job.id for job in tree.expired),
        tree.expired_gone.id,
    }
    assert cleaned[tree.expired[0].id] == NOW
    assert cleaned[tree.pending.id] is None

    again = await run_cleanup(engine, config, now=NOW)
    assert (again.expired_jobs, again.results_deleted, again.previews_deleted, again.temp_files_deleted) == (
        0,
        0,
        0,
        0,
    )
    assert again.orphan_files == expected_orphans
    assert again.ok
    text = "\n".join(again.lines())
    assert "orphan files (no job row): 2" in text
    assert f"missing files (live job, no file): {len(expected_missing)}" in text


def _rels(job: Job) -> list[str]:
    return [rel for rel in (job.result_path, job.preview_path) if rel is not None]


async def test_a_path_outside_results_is_never_deleted_and_the_job_stays_uncleaned(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    root = config.media_root
    template = write_media(root, "templates/slot-001/frame.png", b"keep me")
    job = await add_job(sessionmaker, root, expires_at=NOW - timedelta(days=1), write_files=False)
    async with sessionmaker() as session:
        row = await session.get(Job, job.id)
        assert row is not None
        row.result_path = "templates/slot-001/frame.png"
        row.preview_path = "previews/../../outside.jpg"
        await session.commit()
    report = await run_cleanup(engine, config, now=NOW)
    assert template.read_bytes() == b"keep me"
    assert not report.ok
    assert len(report.errors) == 2
    assert report.jobs_marked_cleaned == 0
    assert (await _cleaned_at(sessionmaker))[job.id] is None


async def test_nothing_live_is_ever_deleted_across_many_batches(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    root = config.media_root
    rng = random.Random(7)
    jobs = [
        await add_job(
            sessionmaker,
            root,
            expires_at=NOW + timedelta(seconds=rng.randint(-3 * 86400, 3 * 86400)),
            slot_id=f"slot-{rng.randint(1, 15):03d}",
        )
        for _ in range(60)
    ]
    jobs.append(await add_job(sessionmaker, root, expires_at=NOW))
    report = await run_cleanup(engine, config, now=NOW, batch_size=7)
    expired = [job for job in jobs if job.result_expires_at is not None and job.result_expires_at < NOW]
    live = [job for job in jobs if job not in expired]
    assert report.ok
    assert report.expired_jobs == report.jobs_marked_cleaned == len(expired)
    assert report.results_deleted == report.previews_deleted == len(expired)
    assert all(p.exists() for job in live for p in _files_of(root, job))
    assert not any(p.exists() for job in expired for p in _files_of(root, job))


async def test_a_second_run_while_one_holds_the_lock_is_refused(
    engine: AsyncEngine, config: AppConfig
) -> None:
    async with service.cleanup_lock(engine, config):
        with pytest.raises(CleanupBusy):
            await run_cleanup(engine, config, now=NOW)
    report = await run_cleanup(engine, config, now=NOW)
    assert report.ok


async def test_live_jobs_missing_their_files_are_each_reported_once_across_pages(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    """The live-results pass pages by (expiry, id); jobs sharing an expiry straddle page boundaries."""
    root = config.media_root
    same = NOW + timedelta(hours=5)
    expiries = [same, same, same, NOW + timedelta(hours=1), NOW + timedelta(days=2), same]
    missing = [await add_job(sessionmaker, root, expires_at=e, write_files=False) for e in expiries]
    present = [await add_job(sessionmaker, root, expires_at=same) for _ in range(3)]
    _age_everything(root)
    report = await run_cleanup(engine, config, now=NOW, dry_run=True, batch_size=2)
    assert sorted(report.missing_files) == sorted(f"job {j.id}: {rel}" for j in missing for rel in _rels(j))
    assert not any(j.id in line for j in present for line in report.missing_files)


async def test_login_attempts_past_retention_are_purged_and_recent_ones_kept(
    engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], config: AppConfig
) -> None:
    ages = {
        "long-ago": timedelta(days=30),
        "just-past": ATTEMPT_RETENTION + timedelta(seconds=1),
        "just-inside": ATTEMPT_RETENTION - timedelta(seconds=1),
        "a-minute-ago": timedelta(minutes=1),
    }
    async with sessionmaker() as session:
        session.add_all(
            LoginAttempt(username=name, client="203.0.113.7", succeeded=False, created_at=NOW - age)
            for name, age in ages.items()
        )
        await session.commit()

    async def remaining() -> set[str]:
        async with sessionmaker() as session:
            return set((await session.execute(select(LoginAttempt.username))).scalars())

    dry = await run_cleanup(engine, config, now=NOW, dry_run=True)
    assert dry.login_attempts_deleted == 2
    assert await remaining() == set(ages)
    assert "login attempts past retention would delete: 2" in "\n".join(dry.lines())

    real = await run_cleanup(engine, config, now=NOW)
    assert real.login_attempts_deleted == 2
    assert await remaining() == {"just-inside", "a-minute-ago"}

    again = await run_cleanup(engine, config, now=NOW)
    assert again.login_attempts_deleted == 0
    assert await remaining() == {"just-inside", "a-minute-ago"}
