"""The ingest pipeline's facade: `receive` an upload (cheap checks first, the photo streamed, validated and
its provider chain resolved), then `process` it now (the booth waits for the image) or `queue` it (the booth
gets the job id at once). Each stage is a module of `ingest.pipeline`, readable alone:

    receive -> idempotency (join the original job) -> admission (permits) -> job row -> execution
    (provider chain, result stored) -> outcome (the row's end, log, metrics, webhook)

The upload's temp file goes whatever happens.
"""

import asyncio
import logging
from contextlib import AsyncExitStack

import anyio
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.accounts.store import KeyStore
from photochanger.config import AppConfig
from photochanger.core.errors import PhotoChangerError
from photochanger.core.limits import Limiter
from photochanger.core.storage import MediaLayout, unlink_quietly
from photochanger.core.time import utcnow
from photochanger.ingest import ending, repository
from photochanger.ingest.exceptions import Unavailable
from photochanger.ingest.pipeline.admission import Admission
from photochanger.ingest.pipeline.db import Transactions
from photochanger.ingest.pipeline.execution import Execution, TemplateLoader
from photochanger.ingest.pipeline.idempotency import Idempotency, KeyTaken
from photochanger.ingest.pipeline.outcome import Outcome
from photochanger.ingest.pipeline.receive import Receiver
from photochanger.ingest.pipeline.request import (
    Accepted,
    IngestRequest,
    IngestResult,
    JobLinks,
    Kit,
    Received,
    public_fields,
)
from photochanger.metrics.registry import Metrics
from photochanger.models import JobSource
from photochanger.providers.registry import ProviderRegistry
from photochanger.webhooks.service import WebhookSender

__all__ = ["Accepted", "IngestRequest", "IngestResult", "IngestService", "Received"]

logger = logging.getLogger(__name__)


class IngestService:
    """Runs uploads for the booth endpoint (and, with `source=ui_test`, for admin test runs)."""

    def __init__(
        self,
        *,
        config: AppConfig,
        sessionmaker: async_sessionmaker[AsyncSession],
        providers: ProviderRegistry,
        limiter: Limiter,
        owner: str,
        webhooks: WebhookSender | None = None,
        template_loader: TemplateLoader | None = None,
        metrics: Metrics | None = None,
        keys: KeyStore | None = None,
    ) -> None:
        self.config = config
        self.sessionmaker = sessionmaker
        self.limiter = limiter
        self.layout = MediaLayout(config.media_root)
        self.owner = owner
        self.accepting = True
        self.links = JobLinks(config)
        self._background: set[asyncio.Task[None]] = set()
        self._running: dict[str, asyncio.Event] = {}
        self._db = Transactions(sessionmaker)
        self.store = config.media_store()
        kit = Kit(
            config, self.layout, owner, providers, keys, self._db, self.links, self._running, self.store
        )
        self.admission = Admission(config, limiter, keys)
        self.receiver = Receiver(kit, self.admission)
        self.outcome = Outcome(
            kit, slot_providers=self.receiver.slot_providers, metrics=metrics, webhooks=webhooks
        )
        self.idempotency = Idempotency(kit)
        self.execution = Execution(kit, self.outcome, template_loader)
        # The memory held by uploads, and the uploads being checked per slot (what the tests watch).
        self.inflight = self.admission.inflight
        self._checking = self.admission.checking

    # --- links ---------------------------------------------------------------------------------------
    def result_url(self, job_id: str) -> str:
        return self.links.result_url(job_id)

    def guest_url(self, job_id: str) -> str:
        return self.links.guest_url(job_id)

    def status_url(self, job_id: str) -> str:
        return self.links.status_url(job_id)

    # --- the two calls -------------------------------------------------------------------------------
    async def receive(self, request: IngestRequest) -> Received:
        """Read and check the upload; the caller hands the result to `process` or `queue` at once. Raises one
        of the ingest errors (counted, and for a booth recorded, as a refusal); never leaves a temp file."""
        seen: dict[str, str] = {}
        try:
            if not self.accepting:
                raise Unavailable(
                    "The server is shutting down; try again shortly.", headers={"Retry-After": "5"}
                )
            return await self.receiver.receive(request, seen)
        except PhotoChangerError as exc:
            await self.outcome.refused(request.slot_id, request.source, exc, seen)
            raise

    async def process(self, r: Received) -> IngestResult:
        """Run the received upload to its end and return the image (or join the earlier job it repeats)."""
        executing = False
        try:
            while True:
                joined = await self.idempotency.join(r)
                if joined is not None:
                    return joined
                try:
                    async with self.admission.permits(r):
                        await self._insert_job(r)
                        executing = True
                        return await self.execution.execute(r)
                except KeyTaken:
                    continue  # lost the race for the key: join the winner
        except PhotoChangerError as exc:
            if not executing:  # the job's own outcome is counted when it ends
                await self.outcome.refused(r.ctx.slot_id, r.source, exc, r.fields)
            raise
        finally:
            await self._discard(r)

    async def queue(self, r: Received) -> Accepted:
        """Queue the received upload's job in this process under the same limits and deadline and return at
        once (`Prefer: respond-async`). A repeat of the same upload returns the original job."""
        r.mode = "async"
        handed_over = False
        try:
            while True:
                existing = await self.idempotency.find(r)
                if existing is not None:
                    return Accepted(existing.id, joined=True)
                stack = AsyncExitStack()
                await stack.enter_async_context(self.admission.permits(r))
                try:
                    await self._insert_job(r)
                except KeyTaken:
                    await stack.aclose()
                    continue
                except BaseException:
                    await stack.aclose()
                    raise
                task = asyncio.create_task(self._run_background(r, stack))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                handed_over = True
                return Accepted(r.job_id)
        except PhotoChangerError as exc:
            await self.outcome.refused(r.ctx.slot_id, r.source, exc, r.fields)
            raise
        finally:
            if not handed_over:
                await self._discard(r)

    async def aclose(self) -> None:
        """Graceful stop: refuse new uploads, let background jobs run to their deadlines, then end what is
        left as `interrupted`."""
        self.accepting = False
        if self._background:
            await asyncio.wait(set(self._background), timeout=self.config.shutdown_grace_seconds)
        for task in list(self._background):
            task.cancel()
        if self._background:
            await asyncio.wait(set(self._background), timeout=5)
        try:
            async with self.sessionmaker() as session, session.begin():
                await ending.interrupt_owned(session, self.owner, now=utcnow())
        except Exception:
            logger.warning("could not mark this process's jobs interrupted at shutdown", exc_info=True)

    # --- the job -------------------------------------------------------------------------------------
    async def _insert_job(self, r: Received) -> None:
        try:
            assignment = await self._db.run(
                "job insert",
                repository.insert_pending,
                # Test runs from the admin are the operator's, not the event's photos.
                with_event=r.source == JobSource.ingest,
                id=r.job_id,
                slot_id=r.ctx.slot_id,
                source=r.source,
                mode=r.mode,
                provider=r.ctx.provider,
                operation=r.ctx.operation,
                booth_meta=public_fields(r.upload.fields),
                client_hash=(r.upload.fields.get("hash") or None),
                sha256=r.upload.sha256,
                input_size=r.upload.size,
                input_type=r.info.content_type,
                input_path=str(r.upload.path.relative_to(self.layout.root)),
                owner=self.owner,
                idempotency_key=r.idempotency_key,
                created_at=r.started,
                started_at=r.started,
            )
        except sa_exc.IntegrityError as exc:
            if r.idempotency_key is not None:
                raise KeyTaken from exc
            raise
        if assignment is not None:
            r.event = (assignment.event_id, assignment.keep_originals)
        self._running[r.job_id] = asyncio.Event()

    async def _run_background(self, r: Received, stack: AsyncExitStack) -> None:
        async with stack:
            try:
                await self.execution.execute(r)
            except PhotoChangerError:
                pass  # recorded on the job; nobody is waiting for an HTTP answer
            except Exception:
                logger.exception("background job crashed", extra={"job_id": r.job_id})
            finally:
                await self._discard(r)

    async def _discard(self, r: Received) -> None:
        self.admission.release(r)
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(unlink_quietly, r.upload.path)
        self.admission.trim_when_idle()
