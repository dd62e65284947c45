"""Event-loop lag: how late a timer callback runs, sampled continuously while the app is up.

Every blocking call on the loop (CPU work, a sync read) delays every request the worker is serving by as
much; `photochanger_event_loop_lag_seconds` shows it directly, where request latencies mix it with the
work itself.
"""

import asyncio
import time

from prometheus_client import CollectorRegistry, Histogram

from photochanger.core.tasks import BackgroundTask

SAMPLE_INTERVAL_SECONDS = 0.02
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class LoopLagMonitor:
    """Sleeps `interval` in a loop and records how much later than asked it woke up."""

    def __init__(self, registry: CollectorRegistry, *, interval: float = SAMPLE_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self.histogram = Histogram(
            "event_loop_lag_seconds",
            f"How late a {interval * 1000:g} ms timer fires on the event loop (sampled continuously).",
            namespace="photochanger",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self._task = BackgroundTask("loop-lag-monitor")

    def start(self) -> None:
        self._task.start(self._run)

    async def stop(self) -> None:
        await self._task.stop()

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.histogram.observe(max(0.0, time.perf_counter() - asked - self.interval))
