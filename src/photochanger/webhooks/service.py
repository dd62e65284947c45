"""Deliver job-end events: signed POSTs retried with backoff for a bounded time, every attempt recorded."""

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.core.time import utcnow
from photochanger.models import WebhookDelivery
from photochanger.webhooks.guard import (
    CheckedTarget,
    IPAddress,
    Resolver,
    WebhookTargetRefused,
    check_target,
    system_resolver,
)
from photochanger.webhooks.signing import SIGNATURE_HEADER, header_value

logger = logging.getLogger(__name__)

ATTEMPT_TIMEOUT_SECONDS = 10.0
FIRST_BACKOFF_SECONDS = 1.0


class WebhookSender:
    """Runs deliveries as background tasks owned by the app; `aclose` waits briefly, then cancels.

    Each attempt resolves the host once, checks every answer (`guard.check_target`) and connects to a checked
    address itself, with the `Host` header, TLS SNI and certificate verification still naming the host: a
    DNS answer that changes between the check and the connection (rebinding) is never used. `verify` is
    httpx's (a CA bundle path or an `ssl.SSLContext`; tests trust their own CA), `resolver` the name lookup.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        allow: Sequence[str],
        max_seconds: float,
        verify: ssl.SSLContext | str | bool = True,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.verify = verify
        self.resolver = resolver
        self.allow = list(allow)
        self.max_seconds = max_seconds
        self._tasks: set[asyncio.Task[bool]] = set()

    def schedule(self, *, job_id: str, slot_id: str, url: str, secret: str, event: dict[str, Any]) -> None:
        task = asyncio.create_task(
            self.deliver(job_id=job_id, slot_id=slot_id, url=url, secret=secret, event=event)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, seconds: float) -> None:
        """Wait up to `seconds` for deliveries in flight (tests and shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)

    async def aclose(self, grace: float = 5.0) -> None:
        await self.drain(grace)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)

    async def deliver(
        self, *, job_id: str, slot_id: str, url: str, secret: str, event: dict[str, Any]
    ) -> bool:
        """POST `event` until a 2xx, a permanent refusal, or `max_seconds` pass. True when delivered."""
        body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode("utf-8")
        give_up = time.monotonic() + self.max_seconds
        backoff = FIRST_BACKOFF_SECONDS
        attempt = 0
        while True:
            attempt += 1
            status, error, elapsed_ms = await self._attempt(url, secret, body)
            await self._record(
                job_id, slot_id, url, event.get("type", "job.finished"), attempt, status, error, elapsed_ms
            )
            if status is not None and 200 <= status < 300:
                return True
            permanent = error is not None and error.startswith("refused:")
            if status is not None and 400 <= status < 500 and status not in (408, 425, 429):
                permanent = True
            if permanent or time.monotonic() + backoff > give_up:
                logger.warning(
                    "webhook not delivered",
                    extra={
                        "job_id": job_id,
                        "slot_id": slot_id,
                        "attempts": attempt,
                        "upstream_status": status,
                    },
                )
                return False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def _attempt(self, url: str, secret: str, body: bytes) -> tuple[int | None, str | None, int]:
        started = time.monotonic()
        try:
            target = await check_target(url, self.allow, resolver=self.resolver)
        except WebhookTargetRefused as exc:
            return None, f"refused: {exc.detail}", 0
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "PhotoChanger-Webhook/1",
            SIGNATURE_HEADER: header_value(secret, timestamp, body),
        }
        error = "ConnectError"
        for address in target.addresses:
            try:
                response = await self._post_pinned(target, address, headers, body)
            except httpx.ConnectError:
                continue  # the next checked address, as a resolver-driven client would
            except httpx.HTTPError as exc:
                error = type(exc).__name__
                break
            return response.status_code, None, int((time.monotonic() - started) * 1000)
        return None, error, int((time.monotonic() - started) * 1000)

    async def _post_pinned(
        self, target: CheckedTarget, address: IPAddress, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        url = httpx.URL(target.url)
        pinned = url.copy_with(host=str(address))
        # One short-lived connection per attempt: a pooled connection is keyed by address alone and could
        # carry another host's TLS session. No proxy from the environment: it would resolve the name again.
        transport = httpx.AsyncHTTPTransport(verify=self.verify, retries=0)
        async with httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False) as client:
            return await client.post(
                pinned,
                content=body,
                headers={**headers, "Host": url.netloc.decode("ascii")},
                timeout=ATTEMPT_TIMEOUT_SECONDS,
                extensions={"sni_hostname": url.raw_host.decode("ascii")},
            )

    async def _record(
        self,
        job_id: str,
        slot_id: str,
        url: str,
        event: str,
        attempt: int,
        status: int | None,
        error: str | None,
        duration_ms: int,
    ) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                session.add(
                    WebhookDelivery(
                        job_id=job_id,
                        slot_id=slot_id,
                        url=url,
                        event=event,
                        attempt=attempt,
                        status_code=status,
                        error=error,
                        duration_ms=duration_ms,
                        created_at=utcnow(),
                    )
                )
        except Exception:
            logger.warning("could not record a webhook delivery", exc_info=True)


async def list_deliveries(session: AsyncSession, slot_id: str, *, limit: int = 50) -> list[WebhookDelivery]:
    rows = await session.execute(
        select(WebhookDelivery)
        .where(WebhookDelivery.slot_id == slot_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())
