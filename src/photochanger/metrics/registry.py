"""The app's Prometheus instruments, on a per-app `CollectorRegistry`, and the values read at scrape time.

Counters and histograms are fed as things happen (ingest jobs, HTTP requests, login errors). Gauges that
describe state owned elsewhere (jobs in flight, permit waits, media disk, the last cleanup, `T_sync_response`)
are read when `/metrics` is scraped: see `Metrics.refresh`.

Under `photochanger serve` the instruments run in prometheus_client's multiprocess mode (`metrics.multiproc`):
`/metrics` sums every worker of the node, and the scrape-time gauges, which describe the node (its database,
its disk), come from the worker that answers. Jobs in flight are a `livesum` gauge fed by the limiter wrapper
below, so they add up across workers too.
"""

import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core import disk
from photochanger.core.limits import Limiter, Limits
from photochanger.metrics import cleanup_state, multiproc
from photochanger.metrics.loop_lag import LoopLagMonitor
from photochanger.settings import service as settings_service

logger = logging.getLogger(__name__)

NAMESPACE = "photochanger"
# Booth waits range from about a second to the 120 s ceiling of T_sync_response.
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Free space is one statvfs call; the media tree walk touches every file, so it is cached longer.
FILESYSTEM_CACHE_SECONDS = 5.0
TREE_CACHE_SECONDS = 60.0


def ingest_outcome(status: str, reason: str | None) -> str:
    """The `outcome` label of a finished job: done, timeout, refused, unavailable or failed."""
    if status in ("done", "timeout"):
        return status
    return {"provider_refused": "refused", "provider_unavailable": "unavailable"}.get(reason or "", "failed")


@dataclass
class ScrapeState:
    """What the last refresh read from the database and the disk (None: could not be read)."""

    database_up: bool = False
    t_sync_response_seconds: float | None = None
    cleanup: cleanup_state.CleanupState | None = None
    fs_total_bytes: int | None = None
    fs_used_bytes: int | None = None
    media_bytes: int | None = None


class _ScrapeCollector(Collector):
    def __init__(self, metrics: "Metrics") -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        s = self.metrics.state
        yield GaugeMetricFamily(
            f"{NAMESPACE}_database_up", "1 when the last scrape could read the database.", int(s.database_up)
        )
        if s.t_sync_response_seconds is not None:
            yield GaugeMetricFamily(
                f"{NAMESPACE}_t_sync_response_seconds",
                "The booth deadline T_sync_response currently configured.",
                s.t_sync_response_seconds,
            )
        if s.cleanup is not None:
            runs = CounterMetricFamily(
                f"{NAMESPACE}_cleanup_runs", "Media cleanup runs (any process).", labels=["result"]
            )
            runs.add_metric(["ok"], s.cleanup.runs_ok)
            runs.add_metric(["error"], s.cleanup.runs_error)
            yield runs
            yield CounterMetricFamily(
                f"{NAMESPACE}_cleanup_deleted_files",
                "Result, preview and temp files deleted by cleanup runs.",
                s.cleanup.deleted_files,
            )
            yield GaugeMetricFamily(
                f"{NAMESPACE}_cleanup_last_success_timestamp_seconds",
                "Unix time of the last cleanup run without errors (0: never).",
                s.cleanup.last_success_at.timestamp() if s.cleanup.last_success_at else 0,
            )
        if s.fs_total_bytes is not None and s.fs_used_bytes is not None:
            yield GaugeMetricFamily(
                f"{NAMESPACE}_media_filesystem_size_bytes",
                "Size of the filesystem holding media_root.",
                s.fs_total_bytes,
            )
            yield GaugeMetricFamily(
                f"{NAMESPACE}_media_filesystem_used_bytes",
                "Bytes used on the filesystem holding media_root.",
                s.fs_used_bytes,
            )
        if s.media_bytes is not None:
            yield GaugeMetricFamily(
                f"{NAMESPACE}_media_bytes",
                "Bytes of results, previews, templates and temp files.",
                s.media_bytes,
            )


class InstrumentedLimiter:
    """A `Limiter` that feeds `jobs_in_flight` and `permit_waits` from the permits it hands out."""

    def __init__(self, inner: Limiter, in_flight: Gauge, waits: Counter) -> None:
        self.inner = inner
        self._in_flight = in_flight
        self._waits = waits
        self._waits_seen = inner.waits

    @property
    def waits(self) -> int:
        return self.inner.waits

    def in_flight(self, *, slot: str | None = None, provider: str | None = None) -> int:
        return self.inner.in_flight(slot=slot, provider=provider)

    def _count_waits(self) -> None:
        # No await between the read and the write: concurrent callers never count a wait twice.
        now = self.inner.waits
        if now > self._waits_seen:
            self._waits.inc(now - self._waits_seen)
        self._waits_seen = now

    def permits(
        self, slot: str, provider: str, limits: Limits, *, wait: float
    ) -> AbstractAsyncContextManager[None]:
        return self._permits(slot, provider, limits, wait)

    @asynccontextmanager
    async def _permits(self, slot: str, provider: str, limits: Limits, wait: float) -> AsyncIterator[None]:
        try:
            async with self.inner.permits(slot, provider, limits, wait=wait):
                self._count_waits()
                self._in_flight.inc()
                try:
                    yield
                finally:
                    self._in_flight.dec()
        finally:
            self._count_waits()


class Metrics:
    """Every instrument of one app. Create one per app; `exposition()` is what `/metrics` answers."""

    def __init__(self, media_root: Path) -> None:
        self.media_root = media_root
        self.registry = CollectorRegistry(auto_describe=True)
        self.state = ScrapeState()
        self._fs_read_at = -1e9
        self._tree_read_at = -1e9
        r = self.registry
        self.loop_lag = LoopLagMonitor(r)
        self.ingest_requests = Counter(
            "ingest_requests",
            "Ingest requests by slot, provider, source (ingest or ui_test) and outcome: a finished job's "
            "outcome, or the problem code of a request refused before its job existed (provider none when "
            "the slot is unknown).",
            ["slot", "provider", "source", "outcome"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.ingest_duration = Histogram(
            "ingest_duration_seconds",
            "End-to-end ingest time, from the request's arrival to the stored result or the failure.",
            ["slot", "provider", "source"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.provider_latency = Histogram(
            "provider_latency_seconds",
            "Time spent in the provider call (retries included).",
            ["provider", "outcome"],
            namespace=NAMESPACE,
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.http_duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request time by method and route template.",
            ["method", "route"],
            namespace=NAMESPACE,
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.http_errors = Counter(
            "http_errors",
            "Problem responses by route template and stable error code.",
            ["route", "code"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.login_failures = Counter(
            "login_failures", "Logins refused for wrong credentials.", namespace=NAMESPACE, registry=r
        )
        self.login_throttled = Counter(
            "login_throttled", "Logins refused by throttling (429).", namespace=NAMESPACE, registry=r
        )
        self.jobs_in_flight = Gauge(
            "jobs_in_flight",
            "Jobs holding concurrency permits now (summed over the node's live workers).",
            namespace=NAMESPACE,
            registry=r,
            multiprocess_mode="livesum",
        )
        self.permit_waits = Counter(
            "permit_waits",
            "Uploads that had to wait for a concurrency permit.",
            namespace=NAMESPACE,
            registry=r,
        )
        self._scrape = _ScrapeCollector(self)
        r.register(self._scrape)

    def instrument(self, limiter: Limiter) -> InstrumentedLimiter:
        return InstrumentedLimiter(limiter, self.jobs_in_flight, self.permit_waits)

    def exposition(self) -> bytes:
        """The Prometheus text of this process, or in multiprocess mode of every worker of the node."""
        path = multiproc.directory()
        if path is None:
            return generate_latest(self.registry)
        multiproc.drop_dead_workers(path)
        registry = CollectorRegistry(auto_describe=True)
        multiprocess.MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
        registry.register(self._scrape)
        return generate_latest(registry)

    def close(self) -> None:
        """A worker that stops cleanly takes its live gauges out of the node's sum."""
        path = multiproc.directory()
        if path is not None:
            multiprocess.mark_process_dead(os.getpid(), str(path))  # type: ignore[no-untyped-call]

    # --- fed as things happen -----------------------------------------------------------------------
    def observe_job(
        self,
        *,
        slot_id: str,
        provider: str,
        source: str,
        status: str,
        reason: str | None,
        duration_ms: int,
        provider_ms: int | None,
    ) -> None:
        """One finished ingest job (or admin test run, `source=ui_test`)."""
        outcome = ingest_outcome(status, reason)
        self.ingest_requests.labels(slot_id, provider, source, outcome).inc()
        self.ingest_duration.labels(slot_id, provider, source).observe(duration_ms / 1000)
        if provider_ms is not None:
            self.provider_latency.labels(provider, outcome).observe(provider_ms / 1000)

    def observe_refusal(self, *, slot_id: str, provider: str, source: str, code: str) -> None:
        """One ingest request refused before a job existed (wrong password, busy, too large, ...)."""
        self.ingest_requests.labels(slot_id, provider, source, code).inc()

    def observe_http(
        self, method: str, route: str, status: int, seconds: float, error_code: str | None
    ) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_duration.labels(method, route).observe(seconds)
        if error_code is not None:
            self.http_errors.labels(route, error_code).inc()

    # --- read at scrape time ------------------------------------------------------------------------
    async def refresh(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the database- and disk-backed gauges. A database outage leaves them out of the scrape
        (and `database_up` 0) rather than failing it."""
        try:
            async with sessionmaker() as session:
                runtime = await settings_service.load(session)
                cleanup = await cleanup_state.load(session)
        except Exception:
            logger.warning("metrics: could not read the database", exc_info=True)
            self.state.database_up = False
            self.state.t_sync_response_seconds = None
            self.state.cleanup = None
        else:
            self.state.database_up = True
            self.state.t_sync_response_seconds = float(runtime.t_sync_response_seconds)
            self.state.cleanup = cleanup
        now = time.monotonic()
        if now - self._fs_read_at >= FILESYSTEM_CACHE_SECONDS:
            total, used = await anyio.to_thread.run_sync(_filesystem, self.media_root)
            self.state.fs_total_bytes, self.state.fs_used_bytes = total, used
            self._fs_read_at = now
        if now - self._tree_read_at >= TREE_CACHE_SECONDS:
            usage = await disk.disk_usage(self.media_root)
            self.state.media_bytes = usage.media_bytes
            self._tree_read_at = now


def _filesystem(path: Path) -> tuple[int, int]:
    while not path.exists() and path != path.parent:
        path = path.parent
    usage = shutil.disk_usage(path)
    return usage.total, usage.total - usage.free
