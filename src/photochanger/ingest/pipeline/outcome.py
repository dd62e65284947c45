"""Outcome: the one place a job ends (its row, its log line, its usage, its metrics, its webhook), the count
of requests refused before a job of their own, and the one table from failure reason to the booth's answer.
"""

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio

from photochanger.core.errors import PhotoChangerError
from photochanger.core.storage import unlink_quietly
from photochanger.core.time import utcnow
from photochanger.core.uploads import ClientClosed
from photochanger.ingest import ending
from photochanger.ingest.exceptions import IngestTimeout, ProviderFailure, ProviderRefusedError, Unavailable
from photochanger.ingest.pipeline.request import Kit, Received, elapsed_ms
from photochanger.metrics.registry import Metrics
from photochanger.models import JobSource, JobStatus
from photochanger.problems import service as problems_service
from photochanger.providers.base import ProviderError, ProviderTimeout, ProviderUnavailable
from photochanger.usage import service as usage_service
from photochanger.webhooks.service import WebhookSender

logger = logging.getLogger(__name__)

PROVIDER_RETRY_AFTER_SECONDS = 10
# A job's deadline passed: the reason recorded for every timeout, whoever noticed it.
TIMEOUT_REASON = "T_sync_response_exceeded"

# Failure reason -> the booth's answer (the class and its detail); any other reason is a provider failure.
# `Unavailable` carries a Retry-After: the provider's own when it said, else `PROVIDER_RETRY_AFTER_SECONDS`.
_BOOTH_ANSWERS: dict[str, tuple[type[PhotoChangerError], str]] = {
    TIMEOUT_REASON: (IngestTimeout, "The photo was not processed in time."),
    "provider_refused": (ProviderRefusedError, "The provider refused to process this photo."),
    "provider_unavailable": (Unavailable, "The provider is temporarily unavailable."),
    "interrupted": (Unavailable, "The provider is temporarily unavailable."),
}
_PROVIDER_FAILED = (ProviderFailure, "The provider failed to process the photo.")


def reason_of(exc: ProviderError) -> str:
    return TIMEOUT_REASON if isinstance(exc, ProviderTimeout) else exc.reason


def booth_error(reason: str | None, *, retry_after: float | None = None) -> PhotoChangerError:
    """What the booth hears for a job that ended without a result (its own, or the one it joined)."""
    kind, detail = _BOOTH_ANSWERS.get(reason or "", _PROVIDER_FAILED)
    if kind is Unavailable:
        retry = retry_after if retry_after is not None else PROVIDER_RETRY_AFTER_SECONDS
        return Unavailable(detail, headers={"Retry-After": str(max(1, math.ceil(retry)))})
    return kind(detail)


def booth_error_for(exc: ProviderError) -> PhotoChangerError:
    retry = exc.retry_after if isinstance(exc, ProviderUnavailable) else None
    return booth_error(reason_of(exc), retry_after=retry)


@dataclass(frozen=True)
class Ending:
    """How a job ends: `error` is None when it is `done`. `columns` are the result's (path, type, ...);
    `files`, the result's files to remove should the row not be written."""

    status: JobStatus
    duration_ms: int
    provider_ms: int
    finished_at: datetime
    error: ProviderError | None = None
    fallback: bool = False
    columns: dict[str, Any] = field(default_factory=dict)
    original: tuple[str, str, int] | None = None
    files: tuple[Path | None, ...] = ()


class Outcome:
    def __init__(
        self,
        kit: Kit,
        *,
        slot_providers: dict[str, str],
        metrics: Metrics | None,
        webhooks: WebhookSender | None,
    ) -> None:
        self.db = kit.db
        self.links = kit.links
        self.keys = kit.keys
        self.slot_providers = slot_providers
        self.metrics = metrics
        self.webhooks = webhooks
        self.refusal_throttle = problems_service.RefusalThrottle()

    async def end(self, r: Received, e: Ending) -> None:
        reason = reason_of(e.error) if e.error is not None else None
        values: dict[str, Any] = {
            "status": e.status,
            "finished_at": e.finished_at,
            "duration_ms": e.duration_ms,
            "provider_ms": e.provider_ms,
            "input_path": None,
            **e.columns,
            **_chain_columns(r),
        }
        if e.error is not None:
            values |= {
                "failure_reason": reason,
                "failure_detail": e.error.message[:500],
                "fallback": "original" if e.fallback else None,
                # A failed shot may be retried: its key no longer joins anything.
                "idempotency_key": None,
            }
        action = "job done" if e.error is None else "job failed"
        try:
            await self.db.run(action, ending.finish, r.job_id, original=e.original, **values)
        except BaseException:
            if e.files:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(unlink_quietly, *e.files)
            raise
        extra: dict[str, Any] = {
            "job_id": r.job_id,
            "slot_id": r.ctx.slot_id,
            "provider": r.ctx.provider,
            "outcome": e.status.value,
        }
        if e.error is not None:
            extra |= {"failure_reason": reason, "upstream_status": e.error.upstream_status}
        extra |= {
            "duration_ms": e.duration_ms,
            "provider_ms": e.provider_ms,
            "source": r.source.value,
            "model": getattr(r.options, "model", None),
        }
        logger.info(action, extra=extra)
        await self._count_usage(r)
        if self.metrics is not None:
            self.metrics.observe_job(
                slot_id=r.ctx.slot_id,
                provider=r.ctx.provider,
                source=r.source.value,
                status=e.status.value,
                reason=reason,
                duration_ms=e.duration_ms,
                provider_ms=e.provider_ms,
            )
        self._notify(r, e.status, reason, e.duration_ms, e.finished_at)

    async def interrupted(self, r: Received) -> None:
        """The job's run ended without an outcome (cancelled, crashed): a failed `interrupted` row."""
        try:
            async with self.db.sessionmaker() as session, session.begin():
                await ending.finish(
                    session,
                    r.job_id,
                    status=JobStatus.failed,
                    failure_reason="interrupted",
                    finished_at=utcnow(),
                    duration_ms=elapsed_ms(r.arrived_at),
                    input_path=None,
                    idempotency_key=None,
                )
        except Exception:
            # Start-up recovery ends the job if the database is down right now.
            logger.warning("could not mark job %s interrupted", r.job_id, exc_info=True)

    async def refused(
        self, slot_id: str, source: JobSource, exc: PhotoChangerError, fields: dict[str, str]
    ) -> None:
        """Count a request that ended before (or without) a job of its own, by its problem code; a booth's
        is also recorded for the admin (best effort: the booth gets its answer whatever happens here)."""
        if isinstance(exc, ClientClosed):
            # Not a server error: one line, no traceback; the metrics count it under its own code.
            logger.info(
                "client closed the request",
                extra={"slot_id": slot_id, "status": exc.status_code, "outcome": exc.code},
            )
        if self.metrics is not None:
            provider = self.slot_providers.get(slot_id, "none")
            self.metrics.observe_refusal(
                slot_id=slot_id, provider=provider, source=source.value, code=exc.code
            )
        # `unavailable` is a database outage or a shutdown: a write now would only delay the booth's answer.
        if source is not JobSource.ingest or exc.code == Unavailable.code:
            return
        if not self.refusal_throttle.allow(slot_id):
            return
        try:
            with anyio.CancelScope(shield=True):
                async with self.db.sessionmaker() as session, session.begin():
                    await problems_service.record_refusal(
                        session,
                        slot_id=slot_id,
                        code=exc.code,
                        status=exc.status_code,
                        detail=exc.detail,
                        fields=fields,
                        now=utcnow(),
                    )
        except Exception:
            logger.warning("could not record a refused upload", extra={"slot_id": slot_id}, exc_info=True)

    def _notify(
        self, r: Received, status: JobStatus, reason: str | None, duration_ms: int, finished_at: datetime
    ) -> None:
        settings = r.ctx.slot_settings
        if self.webhooks is None or not settings.webhook_url or not settings.webhook_secret:
            return
        if r.source is not JobSource.ingest:
            return
        done = status is JobStatus.done
        event: dict[str, Any] = {
            "type": "job.finished",
            "job_id": r.job_id,
            "slot_id": r.ctx.slot_id,
            "status": status.value,
            "failure_reason": reason,
            "mode": r.mode,
            "status_url": self.links.status_url(r.job_id),
            "result_url": self.links.result_url(r.job_id) if done else None,
            "guest_url": self.links.guest_url(r.job_id) if done else None,
            "created_at": r.started.isoformat(),
            "finished_at": finished_at.isoformat(),
            "duration_ms": duration_ms,
        }
        if len(r.links) > 1:
            link = r.result_link
            event["link"] = (
                {"index": link.index, "provider": link.provider.id, "operation": link.operation}
                if link
                else None
            )
            event["attempts"] = [a.as_json() for a in r.attempts]
        self.webhooks.schedule(
            job_id=r.job_id,
            slot_id=r.ctx.slot_id,
            url=str(settings.webhook_url),
            secret=settings.webhook_secret,
            event=event,
        )

    async def _count_usage(self, r: Received) -> None:
        """Provider calls, images and refusals of the job, with their estimated cost; a failure to count
        never costs the booth its answer."""
        calls = usage_service.calls_of(r.attempts)
        if not calls:
            return
        prices = {c.provider: self.keys.limits(c.provider).prices for c in calls} if self.keys else {}
        try:
            await self.db.run(
                "usage",
                usage_service.record,
                slot_id=r.ctx.slot_id,
                started=r.started,
                calls=calls,
                prices=prices,
            )
        except Exception:
            logger.warning("could not count provider usage", extra={"job_id": r.job_id}, exc_info=True)


def _chain_columns(r: Received) -> dict[str, Any]:
    """Which link produced the result and what became of each (only for slots with a chain)."""
    if len(r.links) <= 1 and r.result_link is None:
        return {}
    link = r.result_link
    return {
        "result_link": link.index if link is not None else None,
        "result_provider": link.provider.id if link is not None else None,
        "attempts": [a.as_json() for a in r.attempts],
    }
