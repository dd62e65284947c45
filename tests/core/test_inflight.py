"""The in-flight bytes budget: FIFO admission by weight, timeouts and cancellations give nothing away."""

import asyncio

import pytest

from photochanger.core.inflight import InFlightBytes


async def test_reservations_that_fit_go_at_once_and_the_rest_queue_in_order() -> None:
    budget = InFlightBytes(100)
    first = await asyncio.wait_for(budget.reserve(60), 1)
    order: list[str] = []

    async def take(name: str, amount: int) -> int:
        got = await asyncio.wait_for(budget.reserve(amount), 5)
        order.append(name)
        return got

    big = asyncio.create_task(take("big", 70))
    await asyncio.sleep(0)
    # 30 would fit beside the first 60, but the big one came before it: first come, first served.
    small = asyncio.create_task(take("small", 30))
    await asyncio.sleep(0.01)
    assert order == []
    assert budget.used == 60
    budget.release(first)
    assert await big == 70
    assert await small == 30
    assert order == ["big", "small"]
    assert budget.used == 100
    assert budget.peak == 100


async def test_a_reservation_larger_than_the_capacity_runs_alone() -> None:
    budget = InFlightBytes(100)
    assert await asyncio.wait_for(budget.reserve(500), 1) == 100
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(budget.reserve(1), 0.01)
    budget.release(100)
    assert budget.used == 0


async def test_a_wait_that_times_out_or_is_cancelled_takes_nothing_and_lets_the_next_in() -> None:
    budget = InFlightBytes(100)
    held = await asyncio.wait_for(budget.reserve(80), 1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(budget.reserve(50), 0.01)
    cancelled = asyncio.create_task(budget.reserve(50))
    await asyncio.sleep(0.01)
    behind = asyncio.create_task(budget.reserve(20))
    await asyncio.sleep(0.01)
    assert not behind.done()
    cancelled.cancel()
    # The cancelled wait no longer blocks the queue: 20 fits beside 80.
    assert await behind == 20
    assert budget.used == 100
    budget.release(held)
    budget.release(20)
    assert budget.used == 0
