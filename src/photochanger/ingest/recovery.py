"""Crash recovery: every process holds a lock file for its lifetime; jobs and temp files of a process
whose lock is free again (it died) are ended and removed at start-up."""

import fcntl
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import anyio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.storage import MediaLayout
from photochanger.core.time import utcnow
from photochanger.ingest import cluster, ending, repository
from photochanger.models import JobStatus

logger = logging.getLogger(__name__)

# No job can outlive the largest T_sync_response (120 s); past this a pending job is dead whoever owns it.
MAX_JOB_AGE = timedelta(seconds=180)


class InstanceLock:
    """An exclusive `flock` on `var/run/{owner}.lock`, released by the kernel when the process dies."""

    def __init__(self, run_dir: Path) -> None:
        self.owner = secrets.token_hex(8)
        self.run_dir = run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        self.path = run_dir / f"{self.owner}.lock"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self.path.unlink(missing_ok=True)

    def live_owners(self) -> set[str]:
        """Owners whose lock file is still held by a running process (this one included)."""
        return self.scan()[0]

    def scan(self) -> tuple[set[str], set[str]]:
        """(alive, dead): owners whose lock file is held, and those whose lock file was free (removed now)."""
        alive = {self.owner}
        dead: set[str] = set()
        for lock in self.run_dir.glob("*.lock"):
            owner = lock.stem
            if owner == self.owner:
                continue
            try:
                fd = os.open(lock, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                alive.add(owner)
            else:
                lock.unlink(missing_ok=True)
                dead.add(owner)
            finally:
                os.close(fd)
        return alive, dead


@dataclass(frozen=True)
class RecoveryReport:
    jobs_interrupted: int
    temp_files_removed: int
    result_files_removed: int = 0


def remove_unfinished_results(layout: MediaLayout, jobs: list[tuple[str, str]]) -> int:
    """Result and preview files (and their half-written `.tmp` siblings) of jobs that never became done: a
    process killed between writing them and committing the row leaves them behind, unreferenced."""
    removed = 0
    for slot_id, job_id in jobs:
        for directory in (layout.results / slot_id, layout.previews / slot_id):
            if not directory.is_dir():
                continue
            for path in [*directory.glob(f"{job_id}.*"), *directory.glob(f".{job_id}.*.tmp")]:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _remove_dead_temp_files(layout: MediaLayout, live: set[str], older_than: datetime) -> int:
    removed = 0
    if not layout.temp.is_dir():
        return 0
    for path in layout.temp.iterdir():
        owner = path.name.split(".", 1)[0]
        try:
            mtime = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
        except FileNotFoundError:
            continue
        if owner not in live or mtime < older_than:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def recover(
    sessionmaker: async_sessionmaker[AsyncSession],
    layout: MediaLayout,
    lock: InstanceLock,
    *,
    now: datetime | None = None,
    cluster_live: set[str] | None = None,
) -> RecoveryReport:
    """End pending jobs left by dead processes (failure reason `interrupted`) and remove their temp files and
    any result or preview they wrote before dying. `cluster_live` (PostgreSQL) adds the processes other
    nodes run: their lock files are on other machines, their `cluster_node` rows in the database."""
    moment = now or utcnow()
    alive, dead = await anyio.to_thread.run_sync(lock.scan)
    # A process of this machine whose lock is free is dead even while its heartbeat row has not expired.
    live = alive | ((cluster_live or set()) - dead)
    cutoff = moment - MAX_JOB_AGE
    async with sessionmaker() as session, session.begin():
        stale = await repository.pending_owned_by_others(session, live_owners=live, created_before=cutoff)
        for job in stale:
            await ending.finish(
                session,
                job.id,
                status=JobStatus.failed,
                failure_reason="interrupted",
                finished_at=moment,
                input_path=None,
            )
    if cluster_live is not None and dead:
        async with sessionmaker() as session, session.begin():
            await cluster.forget(session, dead)
    removed = await anyio.to_thread.run_sync(_remove_dead_temp_files, layout, live, cutoff)
    unfinished = [(job.slot_id, job.id) for job in stale]
    results = await anyio.to_thread.run_sync(remove_unfinished_results, layout, unfinished)
    if stale or removed or results:
        logger.warning(
            "recovered after an unclean stop",
            extra={
                "jobs_interrupted": len(stale),
                "temp_files_removed": removed,
                "result_files_removed": results,
            },
        )
    return RecoveryReport(len(stale), removed, results)
