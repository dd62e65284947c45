"""Delete expired results and previews, mark their jobs cleaned, remove stale temp files, report orphans.

A job of an event has two lifetimes: its guest link ends at `result_expires_at` (decided at request time),
while its files (and the original the event kept) stay until the event's `retain_until`; they go at the
first run after both have passed, or after the event was deleted (its jobs then belong to no event).

One run at a time per database (a PostgreSQL advisory lock, or an flock'ed file next to a SQLite database).
Every step is idempotent: a job is marked cleaned only once its files are gone, so an interrupted or failed
run is finished by the next one. Nothing whose `result_expires_at` is still ahead is ever touched.
"""

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.cleanup.lock import CleanupBusy, cleanup_lock
from photochanger.config import AppConfig
from photochanger.core import last_shots
from photochanger.core.db import create_sessionmaker
from photochanger.core.media_store import InvalidKey, MediaStore, check_key
from photochanger.core.time import ensure_utc
from photochanger.jobs.repository import AvailableRow, ExpiredRow, JobRepository
from photochanger.metrics import cleanup_state
from photochanger.models import EventPhoto
from photochanger.models.job import Job
from photochanger.settings import service as settings_service
from photochanger.users.throttle import purge_login_attempts

__all__ = ["CleanupBusy", "CleanupReport", "cleanup_lock", "run_cleanup"]

DEFAULT_BATCH_SIZE = 500
# The longest an upload can live: the 120 s ceiling of T_sync_response plus a margin for the provider's
# last byte, the result write and clock skew. Temp files older than this belong to no running request.
TEMP_MAX_AGE = timedelta(seconds=120 + 180)
JOB_TREES = ("results", "previews")
ORIGINALS = "originals"
TEMP_DIR = "temp"
MAX_LISTED = 50


@dataclass
class CleanupReport:
    """What a run did (or, with `dry_run`, would do)."""

    now: datetime
    dry_run: bool
    expired_jobs: int = 0
    jobs_marked_cleaned: int = 0
    results_deleted: int = 0
    previews_deleted: int = 0
    originals_deleted: int = 0
    files_already_gone: int = 0
    bytes_freed: int = 0
    temp_files_deleted: int = 0
    login_attempts_deleted: int = 0
    # Each slot's last booth shot (kept for trial runs) once older than the result lifetime.
    last_shots_deleted: int = 0
    orphan_files: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        verb = "would delete" if self.dry_run else "deleted"
        return [
            f"cleanup at {self.now.isoformat()}{' (dry run: nothing changed)' if self.dry_run else ''}",
            f"expired jobs: {self.expired_jobs}, marked cleaned: {self.jobs_marked_cleaned}",
            f"{verb}: {self.results_deleted} results, {self.previews_deleted} previews, "
            f"{self.originals_deleted} originals "
            f"({self.bytes_freed} bytes), {self.temp_files_deleted} temp files; "
            f"{self.files_already_gone} files were already gone",
            f"login attempts past retention {verb}: {self.login_attempts_deleted}",
            f"orphan files (no job row): {len(self.orphan_files)}",
            *(f"  orphan {path}" for path in self.orphan_files[:MAX_LISTED]),
            f"missing files (live job, no file): {len(self.missing_files)}",
            *(f"  missing {path}" for path in self.missing_files[:MAX_LISTED]),
            f"errors: {len(self.errors)}",
            *(f"  error {message}" for message in self.errors[:MAX_LISTED]),
            f"took {self.seconds:.3f} s",
        ]


def _inside(relpath: str, tree: str) -> bool:
    """Whether a stored path is a key under `tree/` of the media store (anything else is never deleted)."""
    try:
        check_key(relpath)
    except InvalidKey:
        return False
    return relpath.startswith(f"{tree}/")


@dataclass
class _Deletion:
    deleted: int = 0
    gone: int = 0
    bytes: int = 0
    failed: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def _delete_objects(store: MediaStore, targets: list[tuple[str, str]], dry_run: bool) -> _Deletion:
    """Delete each (owner, key) from the store, in one batch (the bucket sends at most 1000 keys per request);
    a dry run only counts what exists. Blocking: run in a thread."""
    outcome = _Deletion()
    if dry_run:
        for _owner, key in targets:
            found = store.stat(key)
            if found is None:
                outcome.gone += 1
            else:
                outcome.deleted += 1
                outcome.bytes += found.size
        return outcome
    owners: dict[str, list[str]] = {}
    for owner, key in targets:
        owners.setdefault(key, []).append(owner)
    done = store.delete([key for _owner, key in targets])
    outcome.deleted = len(done.deleted)
    outcome.gone = len(done.missing)
    outcome.bytes = done.bytes
    for key, reason in done.failed.items():
        outcome.failed.update(owners.get(key, []))
        outcome.errors.append(f"{key}: {reason}")
    return outcome


def _delete_files(targets: Iterable[tuple[str, Path]], dry_run: bool) -> _Deletion:
    """Unlink each (owner, path) of the node-local temp tree; a dry run only counts what exists. Blocking."""
    outcome = _Deletion()
    for owner, path in targets:
        try:
            size = path.lstat().st_size
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            outcome.gone += 1
        except OSError as exc:
            outcome.failed.add(owner)
            outcome.errors.append(f"{path}: {exc.strerror or exc}")
        else:
            outcome.deleted += 1
            outcome.bytes += size
    return outcome


_Row = TypeVar("_Row", ExpiredRow, AvailableRow)


async def _pages(
    sessionmaker: async_sessionmaker[AsyncSession],
    page: Callable[[JobRepository, tuple[datetime, str] | None], Awaitable[Sequence[_Row]]],
    batch_size: int,
) -> AsyncIterator[Sequence[_Row]]:
    """The job rows `page` returns after each (expiry, id) key, a page per short session. Keyset pagination,
    so a dry run (which marks nothing) still walks every job exactly once."""
    after: tuple[datetime, str] | None = None
    while True:
        async with sessionmaker() as session:
            rows = await page(JobRepository(session), after)
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return
        after = (rows[-1].result_expires_at, rows[-1].id)


async def _clean_expired(
    engine: AsyncEngine,
    store: MediaStore,
    now: datetime,
    dry_run: bool,
    batch_size: int,
    report: CleanupReport,
) -> None:
    sessionmaker = create_sessionmaker(engine)

    async def page(repo: JobRepository, after: tuple[datetime, str] | None) -> Sequence[ExpiredRow]:
        return await repo.expired_page(now, after=after, limit=batch_size)

    async for rows in _pages(sessionmaker, page, batch_size):
        report.expired_jobs += len(rows)
        refused: set[str] = set()
        per_tree: dict[str, list[tuple[str, str]]] = {tree: [] for tree in (*JOB_TREES, ORIGINALS)}
        for row in rows:
            paths = (
                ("results", row.result_path),
                ("previews", row.preview_path),
                (ORIGINALS, row.original_path),
            )
            for tree, relpath in paths:
                if relpath is None:
                    continue
                if not _inside(relpath, tree):
                    refused.add(row.id)
                    report.errors.append(f"job {row.id}: {relpath!r} is not under media/{tree}; left alone")
                else:
                    per_tree[tree].append((row.id, relpath))
        results = await anyio.to_thread.run_sync(_delete_objects, store, per_tree["results"], dry_run)
        previews = await anyio.to_thread.run_sync(_delete_objects, store, per_tree["previews"], dry_run)
        originals = await anyio.to_thread.run_sync(_delete_objects, store, per_tree[ORIGINALS], dry_run)
        report.results_deleted += results.deleted
        report.previews_deleted += previews.deleted
        report.originals_deleted += originals.deleted
        report.bytes_freed += results.bytes + previews.bytes + originals.bytes
        report.files_already_gone += results.gone + previews.gone + originals.gone
        report.errors.extend(results.errors + previews.errors + originals.errors)
        # Only a job whose files are all gone is marked, so the next run retries the others.
        failed = refused | results.failed | previews.failed | originals.failed
        cleaned = [row.id for row in rows if row.id not in failed]
        if cleaned and not dry_run:
            async with sessionmaker() as session:
                await JobRepository(session).mark_cleaned(cleaned, now)
                await session.commit()
        report.jobs_marked_cleaned += len(cleaned)


def _files(base: Path) -> list[Path]:
    if not base.is_dir():
        return []
    return [Path(d) / name for d, _dirs, names in os.walk(base) for name in names]


def _age_seconds(path: Path, now: float) -> float | None:
    try:
        return now - path.lstat().st_mtime
    except FileNotFoundError:
        return None


@dataclass
class _Scan:
    """Objects under results/, previews/ and originals/ old enough to judge, by the job id their name carries;
    every key seen; and the stale temp files of this node."""

    candidates: dict[str, list[str]] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    stale_temp: list[Path] = field(default_factory=list)


def _scan(store: MediaStore, now: float, max_age: float, dry_run: bool) -> tuple[_Scan, _Deletion]:
    """Find stale temp files (media/temp and half-written `*.tmp`) and the job objects to match against rows.

    Young objects are skipped: ingest writes a result before its row points at it. Blocking: run in a thread.
    """
    scan = _Scan()
    root = store.layout.root
    for path in _files(root / TEMP_DIR):
        age = _age_seconds(path, now)
        if age is not None and age > max_age:
            scan.stale_temp.append(path)
    for tree in (*JOB_TREES, ORIGINALS):
        for obj in store.list(tree):
            scan.present.add(obj.key)
            if now - obj.modified <= max_age:
                continue
            name = obj.key.rsplit("/", 1)[-1]
            if name.endswith(".tmp"):  # a write the filesystem backend never finished
                local = store.local_path(obj.key)
                if local is not None:
                    scan.stale_temp.append(local)
                continue
            job_id = name.split(".", 1)[0]
            scan.candidates.setdefault(job_id, []).append(obj.key)
    deletion = _delete_files((("temp", p) for p in scan.stale_temp), dry_run)
    return scan, deletion


async def _report_orphans(
    engine: AsyncEngine, candidates: dict[str, list[str]], batch_size: int, report: CleanupReport
) -> None:
    sessionmaker = create_sessionmaker(engine)
    ids = sorted(candidates)
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        async with sessionmaker() as session:
            rows = (
                await session.execute(
                    select(
                        Job.id, Job.result_path, Job.preview_path, Job.cleaned_at, EventPhoto.original_path
                    )
                    .outerjoin(EventPhoto, EventPhoto.job_id == Job.id)
                    .where(Job.id.in_(chunk))
                )
            ).all()
        known = {row.id: row for row in rows}
        for job_id in chunk:
            row = known.get(job_id)
            referenced = (
                set()
                if row is None or row.cleaned_at is not None
                else {row.result_path, row.preview_path, row.original_path}
            )
            report.orphan_files.extend(rel for rel in candidates[job_id] if rel not in referenced)


async def _report_missing(
    engine: AsyncEngine, present: set[str], now: datetime, batch_size: int, report: CleanupReport
) -> None:
    """Live jobs whose result or preview was not among the objects listed (one listing, not a request each)."""

    # Paged by (expiry, id) like the expired pass, so both databases walk `ix_job_uncleaned_expiry` (live
    # results only) instead of the whole table in id order.
    async def page(repo: JobRepository, after: tuple[datetime, str] | None) -> Sequence[AvailableRow]:
        return await repo.available_page(now, after=after, limit=batch_size)

    async for rows in _pages(create_sessionmaker(engine), page, batch_size):
        report.missing_files.extend(
            f"job {row.id}: {rel}"
            for row in rows
            for rel in (row.result_path, row.preview_path)
            if rel is not None and rel not in present
        )


async def _purge_login_attempts(engine: AsyncEngine, now: datetime, dry_run: bool) -> int:
    """Drop the login throttle's rows past their retention; a dry run counts them and rolls back."""
    async with create_sessionmaker(engine)() as session:
        deleted = await purge_login_attempts(session, now=now)
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return deleted


async def run_cleanup(
    engine: AsyncEngine,
    config: AppConfig,
    *,
    now: datetime,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> CleanupReport:
    """One cleanup run at `now` (aware). Raises `CleanupBusy` (409) when another run holds the lock.

    File problems are collected in `report.errors` (the run goes on and the affected jobs stay uncleaned);
    database errors propagate.
    """
    started = time.monotonic()
    now = ensure_utc(now)
    report = CleanupReport(now=now, dry_run=dry_run)
    store = config.media_store()
    async with cleanup_lock(engine, config):
        await _clean_expired(engine, store, now, dry_run, batch_size, report)
        scan, temp = await anyio.to_thread.run_sync(
            _scan, store, now.timestamp(), TEMP_MAX_AGE.total_seconds(), dry_run
        )
        report.temp_files_deleted = temp.deleted
        report.errors.extend(temp.errors)
        async with create_sessionmaker(engine)() as session:
            ttl = timedelta(hours=(await settings_service.load(session)).result_ttl_hours)
        report.last_shots_deleted = await anyio.to_thread.run_sync(
            lambda: last_shots.remove_expired(store, max_age=ttl, now=now, dry_run=dry_run)
        )
        await _report_orphans(engine, scan.candidates, batch_size, report)
        await _report_missing(engine, scan.present, now, batch_size, report)
        report.login_attempts_deleted = await _purge_login_attempts(engine, now, dry_run)
        if not dry_run:
            # For /metrics of every server process: runs, deleted files, the last success.
            deleted = (
                report.results_deleted
                + report.previews_deleted
                + report.originals_deleted
                + report.temp_files_deleted
                + report.last_shots_deleted
            )
            await cleanup_state.record(engine, ok=report.ok, deleted_files=deleted)
    report.orphan_files.sort()
    report.missing_files.sort()
    report.seconds = time.monotonic() - started
    return report
