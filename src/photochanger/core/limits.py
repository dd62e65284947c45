"""Per-slot, per-provider and global concurrency permits, taken together with a short bounded wait."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limits:
    slot: int
    provider: int
    global_: int


class PermitTimeout(Exception):
    """No permit became free within the allowed wait."""


class Limiter(Protocol):
    """What ingest needs of a limiter: `ConcurrencyLimiter` (one process) or `LeaseLimiter` (a cluster on
    PostgreSQL, `photochanger.ingest.leases`)."""

    waits: int

    def in_flight(self, *, slot: str | None = None, provider: str | None = None) -> int:
        """Permits this process holds now (overall, or for one slot or provider)."""
        ...

    def permits(
        self, slot: str, provider: str, limits: Limits, *, wait: float
    ) -> AbstractAsyncContextManager[None]:
        """Take the slot's, the provider's and a global permit together, waiting at most `wait` seconds
        (`PermitTimeout` past that), and return them when the block ends, whatever ends it."""
        ...


class Held:
    """What this process holds: permits per slot, per provider and overall (both limiters keep one)."""

    def __init__(self) -> None:
        self.slots: Counter[str] = Counter()
        self.providers: Counter[str] = Counter()
        self.total = 0

    def count(self, *, slot: str | None = None, provider: str | None = None) -> int:
        if slot is not None:
            return self.slots[slot]
        if provider is not None:
            return self.providers[provider]
        return self.total

    def add(self, slot: str, provider: str) -> None:
        self.slots[slot] += 1
        self.providers[provider] += 1
        self.total += 1

    def remove(self, slot: str, provider: str) -> None:
        self.slots[slot] -= 1
        self.providers[provider] -= 1
        self.total -= 1
        if self.slots[slot] <= 0:
            del self.slots[slot]
        if self.providers[provider] <= 0:
            del self.providers[provider]


class ConcurrencyLimiter:
    """Counts jobs in flight per slot, per provider and overall.

    All three permits are taken at once (never one without the others), so waiting cannot deadlock, and
    they are returned in a `finally`, whatever ends the job: success, error, timeout, cancellation.
    Check-and-take runs without an await in between, so no lock is needed on one event loop. Limits are
    passed per call because admins change them at runtime.
    """

    def __init__(self) -> None:
        self._held = Held()
        self._released = asyncio.Event()
        self.waits = 0

    def in_flight(self, *, slot: str | None = None, provider: str | None = None) -> int:
        return self._held.count(slot=slot, provider=provider)

    def _free(self, slot: str, provider: str, limits: Limits) -> bool:
        return (
            self._held.slots[slot] < limits.slot
            and self._held.providers[provider] < limits.provider
            and self._held.total < limits.global_
        )

    async def _wait_until_free(self, slot: str, provider: str, limits: Limits, wait: float) -> None:
        give_up = time.monotonic() + wait
        self.waits += 1
        while not self._free(slot, provider, limits):
            left = give_up - time.monotonic()
            if left <= 0:
                raise PermitTimeout
            released = self._released
            try:
                await asyncio.wait_for(released.wait(), timeout=left)
            except TimeoutError:
                raise PermitTimeout from None

    @asynccontextmanager
    async def permits(self, slot: str, provider: str, limits: Limits, *, wait: float) -> AsyncIterator[None]:
        if not self._free(slot, provider, limits):
            await self._wait_until_free(slot, provider, limits, wait)
        self._held.add(slot, provider)
        try:
            yield
        finally:
            self._held.remove(slot, provider)
            # Wake every waiter; each re-checks its own condition. A fresh event for the next round.
            released, self._released = self._released, asyncio.Event()
            released.set()
