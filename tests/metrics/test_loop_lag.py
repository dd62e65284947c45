"""The event-loop lag monitor: a blocking call on the loop shows up in its histogram, and the app runs it."""

import asyncio
import time

import httpx
from prometheus_client import CollectorRegistry

from photochanger.metrics.loop_lag import LoopLagMonitor
from tests.metrics.test_metrics import scrape, value


async def test_a_blocking_call_on_the_loop_is_recorded_as_lag() -> None:
    registry = CollectorRegistry()
    monitor = LoopLagMonitor(registry, interval=0.005)
    monitor.start()
    await asyncio.sleep(0.05)
    time.sleep(0.12)  # noqa: ASYNC251 - the point: block the loop
    await asyncio.sleep(0.05)
    await monitor.stop()
    count = registry.get_sample_value("photochanger_event_loop_lag_seconds_count")
    within_100ms = registry.get_sample_value("photochanger_event_loop_lag_seconds_bucket", {"le": "0.1"})
    total = registry.get_sample_value("photochanger_event_loop_lag_seconds_sum")
    assert count is not None
    assert within_100ms is not None
    assert total is not None
    assert count >= 5
    assert count - within_100ms >= 1, "the 120 ms block is missing"
    assert total >= 0.1


async def test_the_app_samples_its_loop_while_it_runs(client: httpx.AsyncClient) -> None:
    await asyncio.sleep(0.1)
    samples = scrape((await client.get("/metrics")).text)
    assert value(samples, "photochanger_event_loop_lag_seconds_count") >= 2
