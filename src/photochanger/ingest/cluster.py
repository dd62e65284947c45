"""Cluster membership on PostgreSQL: each app process keeps a `cluster_node` row alive by heartbeat, and
ends the jobs and permits of any process whose row has expired (it died without a clean stop).

Times are the database's clock (`now()`), never the nodes': nodes on different machines agree on expiry
whatever their own clocks say. A process killed with SIGKILL (or a node that loses power) stops beating;
within `node_ttl_seconds` its row expires, and the next heartbeat of any other process ends its pending jobs
as `interrupted` and deletes its row, which deletes its permit leases with it (`ON DELETE CASCADE`). So a
dead node's permits come back after at most `node_ttl_seconds` + `heartbeat_seconds`.
"""

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.notify import PERMITS_CHANNEL, notify
from photochanger.core.tasks import cancel_and_wait
from photochanger.core.time import utcnow
from photochanger.ingest import ending
from photochanger.models import ClusterNode, Job, JobStatus, PermitLease

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock keys: permit accounting and the reaper (arbitrary, fixed, distinct).
PERMIT_LOCK_KEY = 0x50C0_0001
REAPER_LOCK_KEY = 0x50C0_0002


async def touch(session: AsyncSession, owner: str, ttl_seconds: float) -> None:
    """Insert or renew this process's row: alive until the database's now() + `ttl_seconds`."""
    now = func.now()
    expires = now + timedelta(seconds=ttl_seconds)
    stmt = insert(ClusterNode).values(
        owner=owner, host=socket.gethostname()[:255], started_at=now, heartbeat_at=now, expires_at=expires
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ClusterNode.owner], set_={"heartbeat_at": now, "expires_at": expires}
        )
    )


async def live_owners(session: AsyncSession) -> set[str]:
    rows = await session.execute(select(ClusterNode.owner).where(ClusterNode.expires_at > func.now()))
    return set(rows.scalars())


async def reap(session: AsyncSession) -> tuple[int, list[tuple[str, str]]]:
    """End the pending jobs of every expired node and delete the node (and so its leases). Returns the
    number of nodes and the (slot_id, job_id) of each job it ended. Safe to run from every node at once: a
    job leaves `pending` only once."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REAPER_LOCK_KEY})
    dead = list(
        (await session.execute(select(ClusterNode.owner).where(ClusterNode.expires_at <= func.now())))
        .scalars()
        .all()
    )
    if not dead:
        return 0, []
    jobs = (
        await session.execute(
            select(Job.slot_id, Job.id).where(Job.status == JobStatus.pending, Job.owner.in_(dead))
        )
    ).all()
    moment = utcnow()
    ended: list[tuple[str, str]] = []
    for slot_id, job_id in jobs:
        moved = await ending.finish(
            session,
            job_id,
            status=JobStatus.failed,
            failure_reason="interrupted",
            finished_at=moment,
            input_path=None,
            idempotency_key=None,
        )
        if moved:
            ended.append((slot_id, job_id))
    await session.execute(delete(PermitLease).where(PermitLease.owner.in_(dead)))
    await session.execute(delete(ClusterNode).where(ClusterNode.owner.in_(dead)))
    await notify(session, PERMITS_CHANNEL)
    return len(dead), ended


async def forget(session: AsyncSession, owners: set[str]) -> None:
    """Delete the rows (and so the leases) of processes known to be dead; their jobs are ended already."""
    await session.execute(delete(ClusterNode).where(ClusterNode.owner.in_(owners)))
    await notify(session, PERMITS_CHANNEL)


class ClusterMembership:
    """This process's `cluster_node` row and the heartbeat task that renews it, reaps dead nodes and
    removes leases this process no longer holds (a release whose DELETE failed during an outage)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        owner: str,
        *,
        ttl_seconds: float,
        heartbeat_seconds: float,
        on_reaped: Callable[[list[tuple[str, str]]], Awaitable[None]] | None = None,
    ) -> None:
        """`on_reaped` gets the (slot_id, job_id) of the jobs a reap ended, after it committed (to remove
        the result files a killed process may have written before its job was done)."""
        self.on_reaped = on_reaped
        self.sessionmaker = sessionmaker
        self.owner = owner
        self.ttl_seconds = ttl_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.held: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register (a database outage is logged; the heartbeat keeps trying) and start beating."""
        try:
            await self.beat()
        except Exception:
            logger.warning("cluster: could not register this process yet", exc_info=True)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cluster-heartbeat")

    async def stop(self) -> None:
        """Stop beating and remove this process's row (and leases): a clean stop frees its permits at once."""
        task, self._task = self._task, None
        await cancel_and_wait(task)
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(delete(PermitLease).where(PermitLease.owner == self.owner))
                await session.execute(delete(ClusterNode).where(ClusterNode.owner == self.owner))
                await notify(session, PERMITS_CHANNEL)
        except Exception:
            logger.warning("cluster: could not deregister; the row expires by itself", exc_info=True)

    async def beat(self) -> None:
        async with self.sessionmaker() as session, session.begin():
            await touch(session, self.owner, self.ttl_seconds)
            stale = delete(PermitLease).where(PermitLease.owner == self.owner)
            if self.held:
                stale = stale.where(PermitLease.id.not_in(list(self.held)))
            await session.execute(stale)
        async with self.sessionmaker() as session, session.begin():
            nodes, jobs = await reap(session)
        if nodes:
            logger.warning(
                "cluster: reaped dead processes", extra={"nodes": nodes, "jobs_interrupted": len(jobs)}
            )
        if jobs and self.on_reaped is not None:
            await self.on_reaped(jobs)

    async def live_owners(self) -> set[str]:
        async with self.sessionmaker() as session:
            return await live_owners(session)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.beat()
            except Exception:
                logger.warning("cluster: heartbeat failed", exc_info=True)
