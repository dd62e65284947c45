"""Cluster-wide concurrency permits on PostgreSQL: one `permit_lease` row per job in flight.

Design, and why: a job's permits are a row, inserted in one short transaction before the provider call and
deleted in another after it, so no pooled connection is held while a provider works (a held connection or
session-level advisory lock per job would tie the pool's size to the number of jobs in flight, and a
`SELECT ... FOR UPDATE` held across the call would pin a connection for up to two minutes). The
check-and-insert is serialised cluster-wide by a transaction-scoped advisory lock, held for the few
milliseconds of a count and an insert. A lease is valid only while its node's `cluster_node` row is alive,
which the node's heartbeat renews (`photochanger.ingest.cluster`): a node that dies stops renewing, and its
permits stop counting after `node_ttl_seconds`, with no per-lease heartbeat traffic. Waiters wake on a
`NOTIFY` sent with every release (through the process's one listening connection), on a local release, or
after `POLL_SECONDS` at the latest.
"""

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.db import is_unavailable_error
from photochanger.core.limits import Held, Limits, PermitTimeout
from photochanger.core.notify import PERMITS_CHANNEL, PgListener, notify
from photochanger.core.time import utcnow
from photochanger.ingest import cluster
from photochanger.ingest.exceptions import Unavailable
from photochanger.models import ClusterNode, PermitLease

logger = logging.getLogger(__name__)

# Backstop for a lost notification (the listener reconnecting): a waiter re-checks at least this often.
POLL_SECONDS = 0.25
DB_RETRY_AFTER_SECONDS = 5
# A lease outlives no crash of PostgreSQL that matters: one lost with the server is a permit free early, one
# whose delete is lost goes with the next heartbeat. So these commits do not wait for the WAL flush.
_NOT_DURABLE = text("SET LOCAL synchronous_commit TO OFF")


class LeaseLimiter:
    """`Limiter` whose counts are every live node's leases. `in_flight` answers for this process only
    (what it can know without a query: the admission check and the in-flight gauge use it)."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        membership: cluster.ClusterMembership,
        listener: PgListener | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.poll_seconds = poll_seconds
        self.membership = membership
        self._held = Held()
        self._released = asyncio.Event()
        self.waits = 0
        if listener is not None:
            listener.subscribe(PERMITS_CHANNEL, lambda _payload: self._wake())

    def in_flight(self, *, slot: str | None = None, provider: str | None = None) -> int:
        return self._held.count(slot=slot, provider=provider)

    def _wake(self) -> None:
        released, self._released = self._released, asyncio.Event()
        released.set()

    async def _try_take(self, lease_id: str, slot: str, provider: str, limits: Limits) -> bool:
        owner = self.membership.owner
        async with self.sessionmaker() as session, session.begin():
            await session.execute(_NOT_DURABLE)
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": cluster.PERMIT_LOCK_KEY})
            # Renewing our own row here too: a node whose heartbeat lapsed in an outage is back at once.
            await cluster.touch(session, owner, self.membership.ttl_seconds)
            counts = (
                await session.execute(
                    select(
                        func.count(),
                        func.count().filter(PermitLease.slot_id == slot),
                        func.count().filter(PermitLease.provider == provider),
                    )
                    .select_from(PermitLease)
                    .join(ClusterNode, ClusterNode.owner == PermitLease.owner)
                    .where(ClusterNode.expires_at > func.now())
                )
            ).one()
            total, on_slot, on_provider = (int(c) for c in counts)
            if on_slot >= limits.slot or on_provider >= limits.provider or total >= limits.global_:
                return False
            session.add(
                PermitLease(id=lease_id, owner=owner, slot_id=slot, provider=provider, acquired_at=utcnow())
            )
        return True

    async def _take(self, lease_id: str, slot: str, provider: str, limits: Limits) -> bool:
        self.membership.held.add(lease_id)
        try:
            taken = await self._try_take(lease_id, slot, provider, limits)
        except BaseException as exc:
            # If the insert did commit, the next heartbeat deletes the lease: it is not in `held`.
            self.membership.held.discard(lease_id)
            if isinstance(exc, Exception) and is_unavailable_error(exc):
                raise Unavailable(
                    "The database is unreachable; try again shortly.",
                    headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
                ) from exc
            raise
        if not taken:
            self.membership.held.discard(lease_id)
        return taken

    async def _release(self, lease_id: str) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await session.execute(_NOT_DURABLE)
                await session.execute(delete(PermitLease).where(PermitLease.id == lease_id))
                await notify(session, PERMITS_CHANNEL)
        except Exception:
            # Left for the heartbeat, which deletes this process's leases that are no longer held.
            logger.warning("could not release permit lease %s now", lease_id, exc_info=True)
        finally:
            self.membership.held.discard(lease_id)

    @asynccontextmanager
    async def permits(self, slot: str, provider: str, limits: Limits, *, wait: float) -> AsyncIterator[None]:
        lease_id = secrets.token_hex(16)
        give_up = time.monotonic() + wait
        waited = False
        while not await self._take(lease_id, slot, provider, limits):
            if not waited:
                waited = True
                self.waits += 1
            left = give_up - time.monotonic()
            if left <= 0:
                raise PermitTimeout
            released = self._released
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(released.wait(), timeout=min(left, self.poll_seconds))
        self._held.add(slot, provider)
        try:
            yield
        finally:
            self._held.remove(slot, provider)
            with anyio.CancelScope(shield=True):
                await self._release(lease_id)
            self._wake()
