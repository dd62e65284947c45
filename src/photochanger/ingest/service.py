"""The ingest pipeline: cheap checks first, then the provider under an absolute deadline and limits.

Order: slot and runtime settings (one short transaction) -> declared size -> free disk -> streamed body with
the cap and the body-read timeouts enforced, the password checked as the file part begins (then admission) ->
image type, pixels, full decode -> idempotency (join the original job) ->
permits -> job row -> provider -> result file and preview written atomically -> job row `done`. The upload's
temp file goes whatever happens. Synchronous callers get the image; asynchronous ones a job id at once.
"""

import asyncio
import logging
import math
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.accounts.rotation import KeyedResult, call_with_keys
from photochanger.accounts.store import KeyStore
from photochanger.config import AppConfig
from photochanger.core import images
from photochanger.core.clients import client_key
from photochanger.core.db import is_unavailable_error
from photochanger.core.disk import ensure_room
from photochanger.core.errors import PhotoChangerError
from photochanger.core.inflight import InFlightBytes
from photochanger.core.media_store import MediaStore
from photochanger.core.storage import MediaLayout, unlink_quietly, write_atomic
from photochanger.core.time import utcnow
from photochanger.ingest import provider_media, repository
from photochanger.ingest.body import guarded_body
from photochanger.ingest.chain import Attempt, ChainFailed, Link, resolve_fallbacks, run_chain
from photochanger.ingest.exceptions import (
    Busy,
    ClientClosed,
    IdempotencyConflict,
    IngestTimeout,
    InvalidImage,
    InvalidPassword,
    InvalidRequest,
    PayloadTooLarge,
    ProviderFailure,
    ProviderRefusedError,
    SlotDisabled,
    SlotNotFound,
    TooManyPasswordAttempts,
    Unavailable,
    UnsupportedMediaType,
)
from photochanger.ingest.limits import Limiter, Limits, PermitTimeout
from photochanger.ingest.multipart import ParsedUpload, read_upload
from photochanger.ingest.password import HashingBusy, IngestPasswordVerifier, ThrottleRefused
from photochanger.metrics.registry import Metrics
from photochanger.models import Job, JobSource, JobStatus
from photochanger.problems import service as problems_service
from photochanger.providers.base import (
    Deadline,
    InputCapped,
    Provider,
    ProviderError,
    ProviderFailed,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
    TemplateImage,
)
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.settings import service as settings_service
from photochanger.settings.schemas import RuntimeSettings
from photochanger.slots import service as slots_service
from photochanger.slots.schemas import OnFailure, SlotSettings
from photochanger.usage import service as usage_service
from photochanger.webhooks.service import WebhookSender

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
# Room for the multipart framing and the booth's text fields on top of the photo itself.
MULTIPART_OVERHEAD_BYTES = 256 * 1024
PREVIEW_LONG_SIDE = 320
BUSY_RETRY_AFTER_SECONDS = 3
DB_RETRY_AFTER_SECONDS = 5
PROVIDER_RETRY_AFTER_SECONDS = 10
JOIN_POLL_SECONDS = 0.25
# Uploads admitted per permit: one running and one arriving keeps the pipeline full without queuing a flood.
ADMISSION_FACTOR = 2
SECRET_FIELDS = frozenset({"password"})
# Idempotency keys the client chose (`Idempotency-Key`) start with this; derived ones with `booth:`.
EXPLICIT_KEY = "key:"

TemplateLoader = Callable[[AsyncSession, MediaStore, list[str]], Awaitable[dict[str, TemplateImage]]]


def new_job_id() -> str:
    """128 random bits, URL-safe: the job id is also the capability for its public links."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class IngestResult:
    job_id: str
    data: bytes
    content_type: str
    result_url: str
    guest_url: str
    fallback: str | None = None
    duration_ms: int = 0
    joined: bool = False


@dataclass(frozen=True)
class Accepted:
    """An asynchronous job that was queued (or an earlier job with the same idempotency key)."""

    job_id: str
    joined: bool = False


@dataclass(frozen=True)
class _Context:
    slot_id: str
    provider: str
    operation: str
    slot_settings: SlotSettings
    runtime: RuntimeSettings
    password_hash: str | None


@dataclass
class _Prepared:
    """A validated upload, ready to become a job."""

    ctx: _Context
    job_id: str
    upload: ParsedUpload
    info: images.ImageInfo
    deadline: Deadline
    provider: Provider
    options: BaseModel
    source: JobSource
    arrived_at: float
    started: datetime
    idempotency_key: str | None
    mode: str = "sync"
    published: list[Path] = field(default_factory=list)
    # (event id, keep originals) of the open event the slot belonged to when the job was inserted.
    event: tuple[str, bool] | None = None
    # Bytes reserved in `IngestService.inflight` for the upload's life (its bytes and the result's).
    memory: int = 0
    # The chain: the primary (index 0) and the fallbacks still usable; and, once run, what each did.
    links: list[Link] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    result_link: Link | None = None


class _KeyTaken(Exception):
    """Another request inserted a job with the same idempotency key first."""


def idempotency_key_for(header: str | None, fields: dict[str, str]) -> str | None:
    """`Idempotency-Key` when given; otherwise the booth's shot `id` with its `hash`, when both are sent."""
    if header and header.strip():
        return EXPLICIT_KEY + header.strip()[:200]
    shot, digest = fields.get("id", "").strip(), fields.get("hash", "").strip()
    if shot and digest:
        return f"booth:{shot[:100]}:{digest[:100]}"
    return None


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
        self.keys = keys
        self.sessionmaker = sessionmaker
        self.providers = providers
        self.limiter = limiter
        self.layout = MediaLayout(config.media_root)
        self.store = config.media_store()
        self.verifier = IngestPasswordVerifier()
        self.owner = owner
        self.webhooks = webhooks
        self.template_loader = template_loader
        self.metrics = metrics
        self.accepting = True
        self._running: dict[str, asyncio.Event] = {}
        # Uploads still streaming in, per slot: counted against the permits by `_admit`.
        self._reading: Counter[str] = Counter()
        # Uploads read but not yet holding permits (waiting for memory, being decoded), counted the same way.
        self._checking: Counter[str] = Counter()
        self._background: set[asyncio.Task[None]] = set()
        # Each known slot's provider, for the labels of requests refused before their job exists.
        self._slot_providers: dict[str, str] = {}
        self.inflight = InFlightBytes(config.image_memory_mb * MIB)
        self.refusal_throttle = problems_service.RefusalThrottle()

    # --- links ---------------------------------------------------------------------------------------
    def result_url(self, job_id: str) -> str:
        return self.config.absolute_url(f"/public/results/{job_id}")

    def guest_url(self, job_id: str) -> str:
        return self.config.absolute_url(f"/r/{job_id}")

    def status_url(self, job_id: str) -> str:
        return self.config.absolute_url(f"/api/jobs/{job_id}")

    # --- entry points --------------------------------------------------------------------------------
    async def run(
        self,
        *,
        slot_id: str,
        body: AsyncIterator[bytes],
        content_type: str | None,
        content_length: int | None,
        arrived_at: float,
        source: JobSource = JobSource.ingest,
        file_field: str = "fileToUpload",
        check_password: bool = True,
        slot_override: tuple[str, str, SlotSettings] | None = None,
        idempotency_header: str | None = None,
        now: datetime | None = None,
        client: str | None = None,
    ) -> IngestResult:
        """Process one upload end to end and return the image. Raises one of the ingest errors; never leaves
        a temp file behind. `arrived_at` is `time.monotonic()` when the request arrived: the deadline counts
        from there. `slot_override` (provider, operation, settings) lets an admin test unsaved settings.
        `client` is the sender's address: wrong passwords are throttled per client."""
        seen: dict[str, str] = {}
        try:
            p = await self._prepare(
                slot_id,
                body,
                content_type,
                content_length,
                arrived_at,
                source,
                file_field,
                check_password,
                slot_override,
                idempotency_header,
                now,
                client,
                seen=seen,
            )
        except PhotoChangerError as exc:
            await self._refused(slot_id, source, exc, seen)
            raise
        executing = False
        try:
            while True:
                joined = await self._join_existing(p)
                if joined is not None:
                    return joined
                try:
                    async with self._permits(p):
                        await self._insert_job(p)
                        executing = True
                        return await self._execute(p)
                except _KeyTaken:
                    continue  # lost the race for the key: join the winner
        except PhotoChangerError as exc:
            if not executing:  # the job's own outcome is counted when it ends
                await self._refused(slot_id, source, exc, seen)
            raise
        finally:
            await self._discard_upload(p)

    async def submit(
        self,
        *,
        slot_id: str,
        body: AsyncIterator[bytes],
        content_type: str | None,
        content_length: int | None,
        arrived_at: float,
        idempotency_header: str | None = None,
        client: str | None = None,
    ) -> Accepted:
        """Validate the upload, queue its job in this process under the same limits and deadline, and
        return at once (`Prefer: respond-async`). A repeat of the same upload returns the original job."""
        seen: dict[str, str] = {}
        try:
            p = await self._prepare(
                slot_id,
                body,
                content_type,
                content_length,
                arrived_at,
                JobSource.ingest,
                "fileToUpload",
                True,
                None,
                idempotency_header,
                None,
                client,
                seen=seen,
            )
        except PhotoChangerError as exc:
            await self._refused(slot_id, JobSource.ingest, exc, seen)
            raise
        p.mode = "async"
        handed_over = False
        try:
            while True:
                existing = await self._find_joinable(p)
                if existing is not None:
                    return Accepted(existing.id, joined=True)
                stack = AsyncExitStack()
                await stack.enter_async_context(self._permits(p))
                try:
                    await self._insert_job(p)
                except _KeyTaken:
                    await stack.aclose()
                    continue
                except BaseException:
                    await stack.aclose()
                    raise
                task = asyncio.create_task(self._run_background(p, stack))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
                handed_over = True
                return Accepted(p.job_id)
        except PhotoChangerError as exc:
            await self._refused(slot_id, JobSource.ingest, exc, seen)
            raise
        finally:
            if not handed_over:
                await self._discard_upload(p)

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
                await repository.interrupt_owned(session, self.owner, now=utcnow())
        except Exception:
            logger.warning("could not mark this process's jobs interrupted at shutdown", exc_info=True)

    # --- preparation ---------------------------------------------------------------------------------
    async def _prepare(
        self,
        slot_id: str,
        body: AsyncIterator[bytes],
        content_type: str | None,
        content_length: int | None,
        arrived_at: float,
        source: JobSource,
        file_field: str,
        check_password: bool,
        slot_override: tuple[str, str, SlotSettings] | None,
        idempotency_header: str | None,
        now: datetime | None,
        client: str | None = None,
        *,
        seen: dict[str, str],
    ) -> _Prepared:
        """`seen` receives the upload's text fields as soon as they are read, so a refusal after that
        point can name the booth."""
        if not self.accepting:
            raise Unavailable("The server is shutting down; try again shortly.", headers={"Retry-After": "5"})
        sender = client_key(client)
        if check_password:  # a client that keeps guessing is refused before a byte of its body is read
            try:
                self.verifier.check_client(sender)
            except ThrottleRefused as exc:
                raise TooManyPasswordAttempts(exc.retry_after) from None
        # Admins may test a switched-off slot before they switch it on; booths may not upload to one.
        ctx = await self._load_context(slot_id, require_active=source is JobSource.ingest)
        if slot_override is not None:
            provider_id, operation_id, slot_settings = slot_override
            ctx = _Context(
                ctx.slot_id, provider_id, operation_id, slot_settings, ctx.runtime, ctx.password_hash
            )
        deadline = Deadline(arrived_at + ctx.runtime.t_sync_response_seconds)
        cap = ctx.runtime.upload_max_mb * MIB
        if ctx.slot_settings.size_limit_mb is not None:
            cap = min(cap, ctx.slot_settings.size_limit_mb * MIB)
        if content_length is not None and content_length > cap + MULTIPART_OVERHEAD_BYTES:
            raise PayloadTooLarge(f"The upload is larger than {cap // MIB} MiB.")
        # Room for the upload and its result; refusing here means no partial file is ever written.
        await ensure_room(self.layout.root, self.config.min_free_disk_mb, 2 * (content_length or cap))

        job_id = new_job_id()
        # An upload counts against admission only once its password checked out. Booths send their text
        # fields before the photo, so the check runs as the file part begins; a stranger trickling a body
        # (or sending a wrong password) never takes the place of a real shot.
        verified = not check_password
        admitted = False

        def admit() -> None:
            nonlocal admitted
            self._admit(ctx)
            self._reading[ctx.slot_id] += 1
            admitted = True

        async def on_file_start(fields: dict[str, str]) -> None:
            nonlocal verified
            seen.update((k, v) for k, v in fields.items() if k not in SECRET_FIELDS)
            if "password" in fields:
                await self._check_password(ctx, fields["password"], sender)
                verified = True
                admit()

        if verified:
            admit()
        try:
            upload = await read_upload(
                guarded_body(
                    body,
                    idle_seconds=self.config.upload_idle_timeout_seconds,
                    total_seconds=self.config.upload_total_timeout_seconds,
                    arrived_at=arrived_at,
                ),
                content_type=content_type,
                dest=self.layout.upload_path(self.owner, job_id),
                max_bytes=cap,
                file_field=file_field,
                on_file_start=None if verified else on_file_start,
            )
        finally:
            if admitted:
                self._reading[ctx.slot_id] -= 1
                if self._reading[ctx.slot_id] <= 0:
                    del self._reading[ctx.slot_id]
        seen.update((k, v) for k, v in upload.fields.items() if k not in SECRET_FIELDS)
        try:
            if not verified:  # the password came after the photo
                await self._check_password(ctx, upload.fields.get("password"), sender)
            if upload.size == 0:
                raise InvalidImage("The photo is empty.")
            self._checking[ctx.slot_id] += 1
            try:
                memory, kept = await self._reserve_memory(ctx, upload, deadline)
                try:
                    info = await self._inspect(ctx, upload, deadline)
                    keyed = self.keys is not None and await self.keys.has_keys(ctx.provider)
                    provider, options = self._resolve(ctx, keyed=keyed)
                    links = [Link(0, provider, ctx.operation, options)]
                    if ctx.slot_settings.fallbacks:
                        links += await self._fallbacks(ctx)
                except BaseException:
                    self.inflight.release(memory)
                    raise
            finally:
                self._checking[ctx.slot_id] -= 1
                if self._checking[ctx.slot_id] <= 0:
                    del self._checking[ctx.slot_id]
            self.inflight.release(memory - kept)  # the bitmap is gone
            memory = kept
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(unlink_quietly, upload.path)
            raise
        key = idempotency_key_for(idempotency_header, upload.fields) if source is JobSource.ingest else None
        return _Prepared(
            ctx=ctx,
            job_id=job_id,
            upload=upload,
            info=info,
            deadline=deadline,
            provider=provider,
            options=options,
            source=source,
            arrived_at=arrived_at,
            started=now or utcnow(),
            idempotency_key=key,
            memory=memory,
            links=links,
        )

    async def _fallbacks(self, ctx: _Context) -> list[Link]:
        keyed = {
            f.provider
            for f in ctx.slot_settings.fallbacks
            if self.keys and await self.keys.has_keys(f.provider)
        }
        return resolve_fallbacks(
            self.providers, ctx.slot_settings.fallbacks, lambda p: p.configured or p.id in keyed
        )

    def _admit(self, ctx: _Context) -> None:
        """Refuse at once, before reading the photo, when the uploads already running or still arriving
        (password checked) would fill the permits twice over: a flood costs neither bandwidth, memory nor
        CPU, and the booth hears 429 instead of waiting to be refused after its upload."""
        runtime = ctx.runtime
        slot_load = self.limiter.in_flight(slot=ctx.slot_id) + self._reading[ctx.slot_id]
        slot_load += self._checking[ctx.slot_id]
        total_load = self.limiter.in_flight() + sum(self._reading.values()) + sum(self._checking.values())
        if slot_load >= ADMISSION_FACTOR * runtime.slot_concurrency or (
            total_load >= ADMISSION_FACTOR * runtime.global_concurrency
        ):
            raise Busy(
                f"Slot {ctx.slot_id} is busy; try again in a few seconds.",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
            )

    async def _load_context(self, slot_id: str, *, require_active: bool = True) -> _Context:
        try:
            async with self.sessionmaker() as session:
                slot = await slots_service.get_config(session, slot_id)
                if slot is None:
                    raise SlotNotFound(f"There is no slot {slot_id!r}.")
                if require_active and not slot.is_active:
                    raise SlotDisabled(f"Slot {slot_id} is switched off.")
                self._slot_providers[slot.id] = slot.provider
                runtime = await settings_service.load(session)
                password = await settings_service.ingest_password_state(session)
        except PhotoChangerError:
            raise
        except Exception as exc:
            if is_unavailable_error(exc):
                raise _db_unavailable(exc) from exc
            raise
        return _Context(
            slot.id, slot.provider, slot.operation, slot.settings, runtime, password.password_hash
        )

    async def _check_password(self, ctx: _Context, password: str | None, client: str) -> None:
        if not password:
            raise InvalidRequest("The ingest password is missing.")
        if ctx.password_hash is None:
            raise InvalidPassword("The ingest password is wrong.")
        try:
            ok = await self.verifier.verify(ctx.password_hash, password, client=client)
        except ThrottleRefused as exc:
            raise TooManyPasswordAttempts(exc.retry_after) from None
        except HashingBusy:
            raise Busy(
                "Too many password checks in progress; try again in a few seconds.",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
            ) from None
        if not ok:
            raise InvalidPassword("The ingest password is wrong.")

    async def _reserve_memory(
        self, ctx: _Context, upload: ParsedUpload, deadline: Deadline
    ) -> tuple[int, int]:
        """Reserve the bytes the upload holds in memory for its life (the photo, the result) together with
        the bitmap its validation decode holds, in one go, so no upload holds a part while it waits for the
        rest. Returns what was taken and the part to keep once the decode is done. Waits within the
        deadline (504 past it)."""
        bitmap = await anyio.to_thread.run_sync(
            lambda: images.decode_cost(
                upload.path, preview_long_side=PREVIEW_LONG_SIDE, input_long_side=self._input_side(ctx)
            )
        )
        held = 2 * upload.size
        # A burst of big photos queues here, first come first served, within each one's deadline.
        try:
            async with asyncio.timeout(deadline.remaining()):
                taken = await self.inflight.reserve(held + bitmap)
        except TimeoutError:
            raise IngestTimeout("The photo was not processed in time.") from None
        return taken, min(taken, held)

    async def _inspect(self, ctx: _Context, upload: ParsedUpload, deadline: Deadline) -> images.ImageInfo:
        """One decode validates the photo and makes its preview and the provider's input, bounded in CPU
        time and by the deadline (which also bounds the wait for the image pool)."""
        budget = images.DecodeBudget(self.config.decode_cpu_seconds, deadline.at)
        input_side = self._input_side(ctx)
        try:
            with anyio.fail_after(deadline.remaining()):
                return await images.run_image_work(
                    lambda: images.inspect_image(
                        upload.path,
                        max_pixels=self.config.max_image_pixels,
                        preview_long_side=PREVIEW_LONG_SIDE,
                        input_long_side=input_side,
                        budget=budget,
                    )
                )
        except (TimeoutError, images.DecodeDeadline) as exc:
            raise IngestTimeout("The photo was not processed in time.") from exc
        except images.UnsupportedImageType as exc:
            raise UnsupportedMediaType("Only JPEG, PNG and WebP photos are accepted.") from exc
        except images.TooManyPixels as exc:
            raise InvalidImage(f"The photo has more than {self.config.max_image_pixels} pixels.") from exc
        except images.DecodeTooCostly as exc:
            raise InvalidImage("The photo is too costly to decode.") from exc
        except images.InvalidImage as exc:
            raise InvalidImage("The photo is truncated or corrupt.") from exc

    def _input_side(self, ctx: _Context) -> int | None:
        """The slot's provider's input cap, when it downscales the photo before sending it."""
        try:
            provider = self.providers.get(ctx.provider)
        except UnknownProvider:
            return None
        return provider.input_max_side if isinstance(provider, InputCapped) else None

    def _resolve(self, ctx: _Context, *, keyed: bool = False) -> tuple[Provider, BaseModel]:
        try:
            provider = self.providers.get(ctx.provider)
            operation = self.providers.operation(ctx.provider, ctx.operation)
        except (UnknownProvider, UnknownOperation) as exc:
            raise ProviderFailure(f"Slot {ctx.slot_id} names an unknown provider or operation.") from exc
        if not (keyed or provider.configured):
            raise ProviderFailure(f"Provider {ctx.provider} is not configured (no API key).")
        params = ctx.slot_settings.params
        default_model = self.keys.limits(ctx.provider).default_model if self.keys is not None else None
        if default_model and "model" not in params and "model" in operation.options_model.model_fields:
            params = {**params, "model": default_model}
        try:
            options = operation.options_model.model_validate(params)
        except ValidationError as exc:
            raise ProviderFailure(
                f"Slot {ctx.slot_id} has invalid parameters; fix them in the admin UI."
            ) from exc
        return provider, options

    def _permits(self, p: _Prepared) -> Any:
        per_provider = self.keys.limits(p.ctx.provider).concurrency if self.keys is not None else None
        limits = Limits(
            p.ctx.runtime.slot_concurrency,
            per_provider or p.ctx.runtime.provider_concurrency,
            p.ctx.runtime.global_concurrency,
        )
        wait = min(self.config.permit_wait_seconds, p.deadline.remaining())
        return _BusyOnTimeout(
            self.limiter.permits(p.ctx.slot_id, p.ctx.provider, limits, wait=wait), p.ctx.slot_id
        )

    # --- idempotency ---------------------------------------------------------------------------------
    async def _find_joinable(self, p: _Prepared) -> Job | None:
        """The earlier job this upload repeats (pending or done, inside the window), else None. A key whose
        job is too old, failed or gone is released so the upload runs afresh."""
        if p.idempotency_key is None:
            return None
        job: Job | None = await self._db(
            "idempotency lookup", repository.by_key, p.ctx.slot_id, p.idempotency_key
        )
        if job is None:
            return None
        too_old = job.created_at < p.started - timedelta(seconds=self.config.idempotency_window_seconds)
        if job.sha256 != p.upload.sha256 and not too_old and p.idempotency_key.startswith(EXPLICIT_KEY):
            raise IdempotencyConflict("A different photo was already sent under this idempotency key.")
        # A key derived from the booth's fields names a shot only as long as the photo is the same: a
        # booth whose counter restarted sends a new shot under an old id, and it takes the key over.
        if too_old or job.sha256 != p.upload.sha256 or job.status not in (JobStatus.pending, JobStatus.done):
            await self._db("idempotency release", repository.release_key, job.id)
            return None
        return job

    async def _join_existing(self, p: _Prepared) -> IngestResult | None:
        job = await self._find_joinable(p)
        if job is None:
            return None
        if job.status == JobStatus.pending:
            job = await self._wait_for(job.id, p.deadline)
        if job.status == JobStatus.done:
            stored = await self._stored_result(job)
            if stored is not None:
                return stored
            await self._db("idempotency release", repository.release_key, job.id)
            return None
        raise _error_for_reason(job.failure_reason)

    async def _wait_for(self, job_id: str, deadline: Deadline) -> Job:
        """Wait for a running job to end: on its in-process event, or by polling for another worker's."""
        while True:
            event = self._running.get(job_id)
            try:
                if event is not None:
                    async with asyncio.timeout(deadline.remaining()):
                        await event.wait()
                else:
                    await asyncio.sleep(min(JOIN_POLL_SECONDS, deadline.remaining()))
            except TimeoutError:
                pass
            job: Job | None = await self._db("idempotency wait", repository.get_detached, job_id)
            if job is None:
                raise IngestTimeout("The original upload of this photo vanished.")
            if job.status != JobStatus.pending:
                return job
            if deadline.expired:
                raise IngestTimeout("The original upload of this photo is still being processed.")

    async def _stored_result(self, job: Job) -> IngestResult | None:
        if job.result_path is None or job.result_type is None:
            return None
        if job.result_expires_at is not None and job.result_expires_at <= utcnow():
            return None
        path = self.layout.resolve(job.result_path)
        try:
            data = await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            return None
        return IngestResult(
            job.id,
            data,
            job.result_type,
            self.result_url(job.id),
            self.guest_url(job.id),
            duration_ms=job.duration_ms or 0,
            joined=True,
        )

    # --- the job -------------------------------------------------------------------------------------
    async def _insert_job(self, p: _Prepared) -> None:
        meta = {k: v for k, v in p.upload.fields.items() if k not in SECRET_FIELDS}
        try:
            assignment = await self._db(
                "job insert",
                repository.insert_pending,
                # Test runs from the admin are the operator's, not the event's photos.
                with_event=p.source == JobSource.ingest,
                id=p.job_id,
                slot_id=p.ctx.slot_id,
                source=p.source,
                mode=p.mode,
                provider=p.ctx.provider,
                operation=p.ctx.operation,
                booth_meta=meta,
                client_hash=(p.upload.fields.get("hash") or None),
                sha256=p.upload.sha256,
                input_size=p.upload.size,
                input_type=p.info.content_type,
                input_path=str(p.upload.path.relative_to(self.layout.root)),
                owner=self.owner,
                idempotency_key=p.idempotency_key,
                created_at=p.started,
                started_at=p.started,
            )
        except sa_exc.IntegrityError as exc:
            if p.idempotency_key is not None:
                raise _KeyTaken from exc
            raise
        if assignment is not None:
            p.event = (assignment.event_id, assignment.keep_originals)
        self._running[p.job_id] = asyncio.Event()

    async def _run_background(self, p: _Prepared, stack: AsyncExitStack) -> None:
        async with stack:
            try:
                await self._execute(p)
            except PhotoChangerError:
                pass  # recorded on the job; nobody is waiting for an HTTP answer
            except Exception:
                logger.exception("background job crashed", extra={"job_id": p.job_id})
            finally:
                await self._discard_upload(p)

    async def _execute(self, p: _Prepared) -> IngestResult:
        output_type = p.ctx.slot_settings.output_format.mime
        provider_started = time.monotonic()
        finished = False
        try:
            image = await anyio.to_thread.run_sync(p.upload.path.read_bytes)
            request = ProviderRequest(
                job_id=p.job_id,
                image=image,
                content_type=p.info.content_type,
                options=p.options,
                deadline=p.deadline,
                templates=await self._templates(p),
                output_type=output_type,
                public_media_url=self._publisher(p),
                guest_url=self.guest_url(p.job_id),
                prepared_input=p.info.provider_input,
            )
            try:
                result = await self._call_provider(p, request)
            except ProviderError as exc:
                outcome = await self._fail(p, exc, image, output_type, self._elapsed_ms(provider_started))
                finished = True
                return outcome
            provider_ms = self._elapsed_ms(provider_started)
            if p.deadline.expired:
                # Late output is dropped: the booth has been told (or is being told) 504.
                late = ProviderTimeout("the provider answered after the deadline")
                outcome = await self._fail(p, late, image, output_type, provider_ms)
                finished = True
                return outcome
            outcome = await self._store(p, result, output_type, provider_ms, image)
            finished = True
            return outcome
        finally:
            with anyio.CancelScope(shield=True):
                if not finished:
                    await self._mark_interrupted(p)
                if p.published:
                    await anyio.to_thread.run_sync(lambda: unlink_quietly(*p.published))
                event = self._running.pop(p.job_id, None)
                if event is not None:
                    event.set()

    async def _templates(self, p: _Prepared) -> dict[str, TemplateImage]:
        ids: list[str] = []
        for link in p.links or [Link(0, p.provider, p.ctx.operation, p.options)]:
            operation = self.providers.operation(link.provider.id, link.operation)
            ids += [i for i in operation.template_ids(link.options) if i not in ids]
        if not ids:
            return {}
        if self.template_loader is None:
            raise ProviderFailure("Template media are not available on this server.")
        loader = self.template_loader
        try:
            async with self.sessionmaker() as session:
                templates = await loader(session, self.store, ids)
        except Exception as exc:
            if is_unavailable_error(exc):
                raise _db_unavailable(exc) from exc
            raise
        missing = [i for i in ids if i not in templates]
        if missing:
            raise ProviderFailure(
                f"Slot {p.ctx.slot_id} uses template media that no longer exist: {missing}."
            )
        return templates

    def _publisher(self, p: _Prepared) -> Callable[[bytes, str], Awaitable[str]]:
        async def publish(data: bytes, content_type: str) -> str:
            expires = time.time() + p.deadline.remaining()
            token, path = await anyio.to_thread.run_sync(
                provider_media.publish, self.layout, self.owner, data, content_type, expires
            )
            p.published.append(path)
            # The extension matches the content: Turbotext reads a link's type from its name.
            ext = images.EXTENSION_BY_MIME[content_type]
            return self.config.absolute_url(f"/public/provider-media/{token}.{ext}")

        return publish

    async def _call_provider(self, p: _Prepared, request: ProviderRequest) -> ProviderResult:
        """The first image of the slot's chain (each link with its provider's keys in turn); what each link
        did is kept on `p` for the job row. Raises the telling `ProviderError` when no link answered."""
        links = p.links or [Link(0, p.provider, p.ctx.operation, p.options)]

        async def run_link(link: Link, link_request: ProviderRequest) -> KeyedResult:
            async def once(keyed: ProviderRequest) -> ProviderResult:
                return await self._call_once(link.provider, link.operation, keyed, p.deadline)

            if self.keys is None:
                return KeyedResult(await once(link_request), None)
            return await call_with_keys(self.keys, link.provider.id, link_request, once)

        try:
            outcome = await run_chain(
                links, request, p.deadline, run_link, hedge_after=p.ctx.slot_settings.hedge_after_seconds
            )
        except ChainFailed as failed:
            p.attempts = failed.attempts
            raise failed.error from None
        p.attempts, p.result_link = outcome.attempts, outcome.link
        return outcome.result

    async def _call_once(
        self, provider: Provider, operation: str, request: ProviderRequest, deadline: Deadline
    ) -> ProviderResult:
        try:
            async with asyncio.timeout(deadline.remaining()):
                result: ProviderResult = await provider.run(operation, request)
        except TimeoutError:
            raise ProviderTimeout("the deadline passed while the provider was working") from None
        except ProviderError:
            raise
        except Exception as exc:
            logger.exception("provider %s crashed", provider.id)
            raise ProviderFailed("the provider driver failed unexpectedly") from exc
        if images.sniff(result.data[:16]) is None:
            raise ProviderFailed("the provider returned something that is not an image")
        return result

    async def _store(
        self, p: _Prepared, result: ProviderResult, output_type: str, provider_ms: int, image: bytes
    ) -> IngestResult:
        data = result.data
        if images.sniff(data[:16]) != output_type:
            try:
                data = await images.run_image_work(images.reencode, data, output_type)
            except images.ImageProblem as exc:
                raise ProviderFailure("The provider returned an unreadable image.") from exc
        ext = images.EXTENSION_BY_MIME[output_type]
        result_rel = self.layout.result_relpath(p.ctx.slot_id, p.job_id, ext)
        preview_rel = self.layout.preview_relpath(p.ctx.slot_id, p.job_id)
        result_path = self.layout.resolve(result_rel)
        preview_path = self.layout.resolve(preview_rel)

        # A result with the input's pixels reuses the preview made while validating: no second decode.
        reuse = p.info.preview if result.meta.get("same_pixels") and data is result.data else None
        original = self._original(p)
        original_path = self.layout.resolve(original[1]) if original is not None else None

        def write_files() -> None:
            write_atomic(result_path, data)
            write_atomic(preview_path, reuse or images.thumbnail(data, PREVIEW_LONG_SIDE))
            if original_path is not None:
                write_atomic(original_path, image)

        duration_ms = 0
        finished_at = p.started
        try:
            await images.run_image_work(write_files)
            duration_ms = self._elapsed_ms(p.arrived_at)
            finished_at = p.started + timedelta(milliseconds=duration_ms)
            await self._db(
                "job done",
                repository.finish,
                p.job_id,
                status=JobStatus.done,
                finished_at=finished_at,
                duration_ms=duration_ms,
                provider_ms=provider_ms,
                result_path=result_rel,
                result_type=output_type,
                result_size=len(data),
                result_expires_at=finished_at + timedelta(hours=p.ctx.runtime.result_ttl_hours),
                preview_path=preview_rel,
                input_path=None,
                original=original,
                **self._chain_columns(p),
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(unlink_quietly, result_path, preview_path, original_path)
            raise
        logger.info(
            "job done",
            extra={
                "job_id": p.job_id,
                "slot_id": p.ctx.slot_id,
                "provider": p.ctx.provider,
                "outcome": "done",
                "duration_ms": duration_ms,
                "provider_ms": provider_ms,
                "source": p.source.value,
                "model": getattr(p.options, "model", None),
            },
        )
        await self._count_usage(p)
        self._observe(p, JobStatus.done, None, duration_ms, provider_ms)
        self._notify(p, JobStatus.done, None, duration_ms, finished_at)
        return IngestResult(
            p.job_id,
            data,
            output_type,
            self.result_url(p.job_id),
            self.guest_url(p.job_id),
            duration_ms=duration_ms,
        )

    def _original(self, p: _Prepared) -> tuple[str, str, int] | None:
        """(event id, relative path, size) of the original shot to keep, when the job's event keeps them."""
        if p.event is None or not p.event[1]:
            return None
        ext = images.EXTENSION_BY_MIME.get(p.info.content_type, "bin")
        return p.event[0], self.layout.original_relpath(p.ctx.slot_id, p.job_id, ext), p.upload.size

    async def _fail(
        self, p: _Prepared, exc: ProviderError, image: bytes, output_type: str, provider_ms: int
    ) -> IngestResult:
        status = JobStatus.timeout if isinstance(exc, ProviderTimeout) else JobStatus.failed
        reason = "T_sync_response_exceeded" if isinstance(exc, ProviderTimeout) else exc.reason
        fallback = p.ctx.slot_settings.on_failure is OnFailure.original and p.mode == "sync"
        duration_ms = self._elapsed_ms(p.arrived_at)
        finished_at = p.started + timedelta(milliseconds=duration_ms)
        await self._db(
            "job failed",
            repository.finish,
            p.job_id,
            status=status,
            failure_reason=reason,
            failure_detail=exc.message[:500],
            fallback="original" if fallback else None,
            finished_at=finished_at,
            duration_ms=duration_ms,
            provider_ms=provider_ms,
            input_path=None,
            # A failed shot may be retried: its key no longer joins anything.
            idempotency_key=None,
            **self._chain_columns(p),
        )
        logger.info(
            "job failed",
            extra={
                "job_id": p.job_id,
                "slot_id": p.ctx.slot_id,
                "provider": p.ctx.provider,
                "outcome": status.value,
                "failure_reason": reason,
                "upstream_status": exc.upstream_status,
                "duration_ms": duration_ms,
                "provider_ms": provider_ms,
                "source": p.source.value,
                "model": getattr(p.options, "model", None),
            },
        )
        await self._count_usage(p)
        self._observe(p, status, reason, duration_ms, provider_ms)
        self._notify(p, status, reason, duration_ms, finished_at)
        if fallback:
            try:
                data = await images.run_image_work(images.reencode, image, output_type)
            except images.ImageProblem:
                data = image
                output_type = images.sniff(image[:16]) or output_type
            return IngestResult(
                p.job_id,
                data,
                output_type,
                self.result_url(p.job_id),
                self.guest_url(p.job_id),
                fallback=reason,
                duration_ms=duration_ms,
            )
        raise _booth_error(exc)

    async def _mark_interrupted(self, p: _Prepared) -> None:
        try:
            async with self.sessionmaker() as session, session.begin():
                await repository.finish(
                    session,
                    p.job_id,
                    status=JobStatus.failed,
                    failure_reason="interrupted",
                    finished_at=utcnow(),
                    duration_ms=self._elapsed_ms(p.arrived_at),
                    input_path=None,
                    idempotency_key=None,
                )
        except Exception:
            # Start-up recovery ends the job if the database is down right now.
            logger.warning("could not mark job %s interrupted", p.job_id, exc_info=True)

    def _notify(
        self, p: _Prepared, status: JobStatus, reason: str | None, duration_ms: int, finished_at: datetime
    ) -> None:
        settings = p.ctx.slot_settings
        if self.webhooks is None or not settings.webhook_url or not settings.webhook_secret:
            return
        if p.source is not JobSource.ingest:
            return
        done = status is JobStatus.done
        event: dict[str, Any] = {
            "type": "job.finished",
            "job_id": p.job_id,
            "slot_id": p.ctx.slot_id,
            "status": status.value,
            "failure_reason": reason,
            "mode": p.mode,
            "status_url": self.status_url(p.job_id),
            "result_url": self.result_url(p.job_id) if done else None,
            "guest_url": self.guest_url(p.job_id) if done else None,
            "created_at": p.started.isoformat(),
            "finished_at": finished_at.isoformat(),
            "duration_ms": duration_ms,
        }
        if len(p.links) > 1:
            link = p.result_link
            event["link"] = (
                {"index": link.index, "provider": link.provider.id, "operation": link.operation}
                if link
                else None
            )
            event["attempts"] = [a.as_json() for a in p.attempts]
        self.webhooks.schedule(
            job_id=p.job_id,
            slot_id=p.ctx.slot_id,
            url=str(settings.webhook_url),
            secret=settings.webhook_secret,
            event=event,
        )

    # --- helpers -------------------------------------------------------------------------------------
    async def _count_usage(self, p: _Prepared) -> None:
        """Provider calls, images and refusals of the job, with their estimated cost; a failure to count
        never costs the booth its answer."""
        calls = usage_service.calls_of(p.attempts)
        if not calls:
            return
        prices = {c.provider: self.keys.limits(c.provider).prices for c in calls} if self.keys else {}
        try:
            await self._db(
                "usage",
                usage_service.record,
                slot_id=p.ctx.slot_id,
                started=p.started,
                calls=calls,
                prices=prices,
            )
        except Exception:
            logger.warning("could not count provider usage", extra={"job_id": p.job_id}, exc_info=True)

    @staticmethod
    def _chain_columns(p: _Prepared) -> dict[str, Any]:
        """Which link produced the result and what became of each (only for slots with a chain)."""
        if len(p.links) <= 1 and p.result_link is None:
            return {}
        link = p.result_link
        return {
            "result_link": link.index if link is not None else None,
            "result_provider": link.provider.id if link is not None else None,
            "attempts": [a.as_json() for a in p.attempts],
        }

    def _observe(
        self, p: _Prepared, status: JobStatus, reason: str | None, duration_ms: int, provider_ms: int
    ) -> None:
        if self.metrics is not None:
            self.metrics.observe_job(
                slot_id=p.ctx.slot_id,
                provider=p.ctx.provider,
                source=p.source.value,
                status=status.value,
                reason=reason,
                duration_ms=duration_ms,
                provider_ms=provider_ms,
            )

    async def _refused(
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
            provider = self._slot_providers.get(slot_id, "none")
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
                async with self.sessionmaker() as session, session.begin():
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

    async def _db(self, action: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one short transaction; a database outage becomes 503 with Retry-After."""
        try:
            async with self.sessionmaker() as session, session.begin():
                return await func(session, *args, **kwargs)
        except Exception as exc:
            if is_unavailable_error(exc):
                logger.warning("database unavailable during %s", action)
                raise _db_unavailable(exc) from exc
            raise

    async def _discard_upload(self, p: _Prepared) -> None:
        self.inflight.release(p.memory)
        p.memory = 0
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(unlink_quietly, p.upload.path)

    @staticmethod
    def _elapsed_ms(since: float) -> int:
        return int((time.monotonic() - since) * 1000)


class _BusyOnTimeout:
    """Wraps the limiter's context manager: a permit wait that runs out becomes 429 `busy`."""

    def __init__(self, inner: Any, slot_id: str) -> None:
        self.inner = inner
        self.slot_id = slot_id

    async def __aenter__(self) -> None:
        try:
            await self.inner.__aenter__()
        except PermitTimeout:
            raise Busy(
                f"Slot {self.slot_id} is busy; try again in a few seconds.",
                headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
            ) from None

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        result: bool | None = await self.inner.__aexit__(*exc_info)
        return result


def _db_unavailable(exc: BaseException) -> PhotoChangerError:
    """503 when the database is down; 429 when it is up but every pooled connection is busy (our own
    overload, which a retry a little later solves)."""
    if isinstance(exc, sa_exc.TimeoutError):
        return Busy(
            "The server is busy; try again in a few seconds.",
            headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
        )
    return Unavailable(
        "The database is unreachable; try again shortly.",
        headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
    )


def _error_for_reason(reason: str | None) -> PhotoChangerError:
    """The booth error for a joined job that ended without a result."""
    if reason == "T_sync_response_exceeded":
        return IngestTimeout("The photo was not processed in time.")
    if reason == "provider_refused":
        return ProviderRefusedError("The provider refused to process this photo.")
    if reason in ("provider_unavailable", "interrupted"):
        return Unavailable(
            "The provider is temporarily unavailable.",
            headers={"Retry-After": str(PROVIDER_RETRY_AFTER_SECONDS)},
        )
    return ProviderFailure("The provider failed to process the photo.")


def _booth_error(exc: ProviderError) -> PhotoChangerError:
    if isinstance(exc, ProviderTimeout):
        return IngestTimeout("The photo was not processed in time.")
    if isinstance(exc, ProviderRefused):
        return ProviderRefusedError("The provider refused to process this photo.")
    if isinstance(exc, ProviderUnavailable):
        retry = exc.retry_after if exc.retry_after is not None else PROVIDER_RETRY_AFTER_SECONDS
        return Unavailable(
            "The provider is temporarily unavailable.", headers={"Retry-After": str(max(1, math.ceil(retry)))}
        )
    return ProviderFailure("The provider failed to process the photo.")
