"""Concurrency permits: bounded waits, atomic multi-acquire, and permits always returned."""

import asyncio

import pytest

from photochanger.core.limits import ConcurrencyLimiter, Limits, PermitTimeout

LIMITS = Limits(slot=2, provider=3, global_=4)


async def _hold(limiter: ConcurrencyLimiter, slot: str, provider: str, release: asyncio.Event) -> None:
    async with limiter.permits(slot, provider, LIMITS, wait=0.1):
        await release.wait()


async def test_n_plus_one_on_a_slot_limited_to_n_times_out_once() -> None:
    limiter = ConcurrencyLimiter()
    release = asyncio.Event()
    holders = [asyncio.create_task(_hold(limiter, "s1", "p", release)) for _ in range(2)]
    await asyncio.sleep(0.01)
    assert limiter.in_flight(slot="s1") == 2
    with pytest.raises(PermitTimeout):
        async with limiter.permits("s1", "p", LIMITS, wait=0.05):
            pass
    # Another slot still has room under the provider and global limits.
    async with limiter.permits("s2", "p", LIMITS, wait=0.05):
        assert limiter.in_flight() == 3
    release.set()
    await asyncio.gather(*holders)
    assert limiter.in_flight() == 0


async def test_a_waiter_gets_the_permit_when_one_is_released() -> None:
    limiter = ConcurrencyLimiter()
    release = asyncio.Event()
    holders = [asyncio.create_task(_hold(limiter, "s1", "p", release)) for _ in range(2)]
    await asyncio.sleep(0.01)

    async def later() -> None:
        await asyncio.sleep(0.05)
        release.set()

    releaser = asyncio.create_task(later())
    async with limiter.permits("s1", "p", LIMITS, wait=2.0):
        assert limiter.in_flight(slot="s1") >= 1
    await asyncio.gather(*holders, releaser)
    assert limiter.waits == 1


async def test_permits_come_back_after_errors_and_cancellation() -> None:
    limiter = ConcurrencyLimiter()
    with pytest.raises(RuntimeError):
        async with limiter.permits("s1", "p", LIMITS, wait=0.1):
            raise RuntimeError("provider blew up")
    blocked = asyncio.Event()

    async def stuck() -> None:
        async with limiter.permits("s1", "p", LIMITS, wait=0.1):
            blocked.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(stuck())
    await blocked.wait()
    assert limiter.in_flight(provider="p") == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (limiter.in_flight(), limiter.in_flight(slot="s1"), limiter.in_flight(provider="p")) == (0, 0, 0)


async def test_global_limit_applies_across_slots_and_providers() -> None:
    limiter = ConcurrencyLimiter()
    release = asyncio.Event()
    holders = [asyncio.create_task(_hold(limiter, f"s{i}", f"p{i}", release)) for i in range(4)]
    await asyncio.sleep(0.01)
    with pytest.raises(PermitTimeout):
        async with limiter.permits("s9", "p9", LIMITS, wait=0.05):
            pass
    release.set()
    await asyncio.gather(*holders)
    assert limiter.in_flight() == 0
