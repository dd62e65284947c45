"""Cluster-wide permits on PostgreSQL: two "nodes" (memberships with their own owner) on one database."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from photochanger.core.db import create_engine, create_sessionmaker, is_sqlite
from photochanger.core.limits import ConcurrencyLimiter, Limits, PermitTimeout
from photochanger.core.notify import PgListener
from photochanger.core.storage import MediaLayout
from photochanger.core.time import utcnow
from photochanger.ingest import repository
from photochanger.ingest.cluster import ClusterMembership, live_owners
from photochanger.ingest.exceptions import Unavailable
from photochanger.ingest.leases import POLL_SECONDS, LeaseLimiter
from photochanger.ingest.recovery import InstanceLock, recover
from photochanger.models import ClusterNode, Job, JobSource, JobStatus, PermitLease
from tests.support.server import free_port

LIMITS = Limits(slot=2, provider=3, global_=4)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if is_sqlite(database_url):
        pytest.skip("cluster leases are PostgreSQL-only; SQLite keeps the in-process limiter")
    eng = create_engine(database_url, pool_size=4)
    yield eng
    await eng.dispose()


@pytest.fixture
def maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


async def _node(
    maker: async_sessionmaker[AsyncSession],
    owner: str,
    *,
    ttl: float = 30.0,
    listener: PgListener | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> tuple[ClusterMembership, LeaseLimiter]:
    membership = ClusterMembership(maker, owner, ttl_seconds=ttl, heartbeat_seconds=ttl / 3)
    await membership.beat()
    return membership, LeaseLimiter(maker, membership, listener, poll_seconds=poll_seconds)


async def _hold(
    limiter: LeaseLimiter, slot: str, provider: str, held: asyncio.Event, release: asyncio.Event
) -> None:
    async with limiter.permits(slot, provider, LIMITS, wait=1.0):
        held.set()
        await release.wait()


async def _leases(maker: async_sessionmaker[AsyncSession]) -> int:
    async with maker() as session:
        return int((await session.execute(select(func.count()).select_from(PermitLease))).scalar_one())


async def test_slot_limit_holds_across_two_nodes_and_no_connection_is_held(
    engine: AsyncEngine, maker: async_sessionmaker[AsyncSession]
) -> None:
    _, a = await _node(maker, "node-a")
    _, b = await _node(maker, "node-b")
    release = asyncio.Event()
    held = [asyncio.Event(), asyncio.Event()]
    holders = [
        asyncio.create_task(_hold(a, "s1", "p", held[0], release)),
        asyncio.create_task(_hold(b, "s1", "p", held[1], release)),
    ]
    await asyncio.wait_for(asyncio.gather(*(h.wait() for h in held)), 5)
    # Both permits are rows; no pooled connection stays checked out while they are held.
    assert await _leases(maker) == 2
    assert engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert (a.in_flight(slot="s1"), b.in_flight(slot="s1")) == (1, 1)
    for limiter in (a, b):
        with pytest.raises(PermitTimeout):
            async with limiter.permits("s1", "p", LIMITS, wait=0.3):
                pass
    assert (a.waits, b.waits) == (1, 1)
    # Another slot still fits under the provider (3) and global (4) limits, on either node.
    async with b.permits("s2", "p", LIMITS, wait=0.3):
        assert await _leases(maker) == 3
        with pytest.raises(PermitTimeout):  # the provider's third permit is taken cluster-wide
            async with a.permits("s3", "p", LIMITS, wait=0.3):
                pass
    release.set()
    await asyncio.gather(*holders)
    assert await _leases(maker) == 0
    assert (a.in_flight(), b.in_flight()) == (0, 0)


async def test_a_waiter_on_one_node_is_woken_by_a_release_on_the_other(
    database_url: str, maker: async_sessionmaker[AsyncSession]
) -> None:
    listener = PgListener(database_url)
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 5)
        _, a = await _node(maker, "node-a")
        # No backstop poll within the wait: only the NOTIFY of the release on node A can wake node B in time.
        _, b = await _node(maker, "node-b", listener=listener, poll_seconds=60)
        single = Limits(slot=1, provider=5, global_=5)
        taken = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with a.permits("s1", "p", single, wait=1.0):
                taken.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await taken.wait()

        async def release_soon() -> None:
            await asyncio.sleep(0.2)
            release.set()

        releaser = asyncio.create_task(release_soon())
        async with b.permits("s1", "p", single, wait=20.0):
            assert b.in_flight(slot="s1") == 1
        await asyncio.gather(holder, releaser)
        assert b.waits == 1
    finally:
        await listener.stop()


async def test_a_dead_nodes_permits_return_and_its_jobs_end_interrupted(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    dead_membership, dead = await _node(maker, "node-dead", ttl=2.0)
    alive_membership, alive = await _node(maker, "node-alive", ttl=30.0)
    reaped: list[list[tuple[str, str]]] = []

    async def on_reaped(jobs: list[tuple[str, str]]) -> None:
        reaped.append(jobs)

    alive_membership.on_reaped = on_reaped
    async with maker() as session, session.begin():
        await repository.insert_pending(
            session,
            id="job-on-dead-node",
            slot_id="slot-001",
            source=JobSource.ingest,
            mode="sync",
            provider="local",
            operation="identity",
            owner="node-dead",
            sha256="0" * 64,
            input_size=1,
            input_type="image/jpeg",
            created_at=utcnow(),
            started_at=utcnow(),
        )
    single = Limits(slot=1, provider=5, global_=5)
    # The dying node takes the slot's only permit and never gives it back (as if SIGKILLed mid-job).
    holder = dead.permits("slot-001", "local", single, wait=1.0)
    await holder.__aenter__()
    with pytest.raises(PermitTimeout):
        async with alive.permits("slot-001", "local", single, wait=0.3):
            pass
    started = time.monotonic()
    # It stops beating; the live node beats on. Within the TTL the permit counts no more.
    async with alive.permits("slot-001", "local", single, wait=5.0):
        returned_after = time.monotonic() - started
    assert returned_after <= 2.0 + 0.5, returned_after
    await alive_membership.beat()  # the reaper: ends the dead node's job and removes its row and lease
    async with maker() as session:
        job = await session.get(Job, "job-on-dead-node")
        assert job is not None
        assert (job.status, job.failure_reason) == (JobStatus.failed, "interrupted")
        nodes = set((await session.execute(select(ClusterNode.owner))).scalars())
    assert nodes == {"node-alive"}
    assert await _leases(maker) == 0
    # Told once, after the commit, so the files the dead node may have written can go.
    assert reaped == [[("slot-001", "job-on-dead-node")]]
    await alive_membership.beat()
    assert len(reaped) == 1
    assert dead_membership.held  # the dead node still thinks it holds it; nobody else does
    await holder.__aexit__(None, None, None)
    assert not dead_membership.held


async def test_a_lease_whose_release_failed_is_removed_by_the_next_heartbeat(
    maker: async_sessionmaker[AsyncSession],
) -> None:
    membership, limiter = await _node(maker, "node-a")
    async with limiter.permits("s1", "p", LIMITS, wait=1.0):
        [lease_id] = membership.held
    assert await _leases(maker) == 0
    # A release that could not reach the database leaves a row behind, no longer in `held`.
    async with maker() as session, session.begin():
        session.add(
            PermitLease(id="leaked", owner="node-a", slot_id="s1", provider="p", acquired_at=utcnow())
        )
    assert await _leases(maker) == 1
    await membership.beat()
    assert await _leases(maker) == 0
    assert lease_id not in membership.held


async def test_a_clean_stop_frees_the_nodes_permits_at_once(maker: async_sessionmaker[AsyncSession]) -> None:
    membership, limiter = await _node(maker, "node-a")
    holder = limiter.permits("s1", "p", LIMITS, wait=1.0)
    await holder.__aenter__()
    assert await _leases(maker) == 1
    await membership.stop()
    assert await _leases(maker) == 0
    async with maker() as session:
        assert (await session.execute(select(func.count()).select_from(ClusterNode))).scalar_one() == 0
    await holder.__aexit__(None, None, None)


async def test_heartbeat_extends_the_node_row_by_the_ttl(maker: async_sessionmaker[AsyncSession]) -> None:
    await _node(maker, "node-a", ttl=60.0)
    async with maker() as session:
        row = await session.get(ClusterNode, "node-a")
    assert row is not None
    assert timedelta(seconds=55) < row.expires_at - row.heartbeat_at <= timedelta(seconds=60)


async def test_start_up_recovery_leaves_the_jobs_of_a_live_node_elsewhere_alone(
    maker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # Another machine's node: its lock file is not here, but its heartbeat row is alive.
    await _node(maker, "node-elsewhere")
    async with maker() as session, session.begin():
        await repository.insert_pending(
            session,
            id="job-elsewhere",
            slot_id="slot-001",
            source=JobSource.ingest,
            mode="sync",
            provider="local",
            operation="identity",
            owner="node-elsewhere",
            sha256="0" * 64,
            input_size=1,
            input_type="image/jpeg",
            created_at=utcnow(),
            started_at=utcnow(),
        )
    lock = InstanceLock(tmp_path / "run")
    try:
        async with maker() as session:
            live = await live_owners(session)
        report = await recover(maker, MediaLayout(tmp_path / "media"), lock, cluster_live=live)
        assert report.jobs_interrupted == 0
        async with maker() as session:
            job = await session.get(Job, "job-elsewhere")
        assert job is not None
        assert job.status == JobStatus.pending
        # Without the cluster's view the same recovery would have ended it.
        report = await recover(maker, MediaLayout(tmp_path / "media"), lock)
        assert report.jobs_interrupted == 1
    finally:
        lock.release()


async def test_the_app_uses_leases_on_postgresql(app: FastAPI, database_url: str) -> None:
    if is_sqlite(database_url):
        assert isinstance(app.state.limiter, ConcurrencyLimiter)
        assert app.state.listener is None
    else:
        assert isinstance(app.state.limiter, LeaseLimiter)
        async with app.state.sessionmaker() as session:
            assert app.state.instance_lock.owner in await live_owners(session)


async def test_an_unreachable_database_makes_the_permit_wait_a_503_not_a_crash() -> None:
    engine = create_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none", pool_size=1, connect_timeout=1
    )
    try:
        maker = create_sessionmaker(engine)
        membership = ClusterMembership(maker, "node-a", ttl_seconds=30, heartbeat_seconds=10)
        limiter = LeaseLimiter(maker, membership)
        with pytest.raises(Unavailable) as refused:
            async with limiter.permits("s1", "p", LIMITS, wait=1.0):
                pass
        assert refused.value.status_code == 503
        assert refused.value.headers["Retry-After"] == "5"
        assert (limiter.in_flight(), membership.held) == (0, set())
    finally:
        await engine.dispose()
