"""Receiving an upload, cheap checks first: slot and runtime settings (one short transaction) -> declared
size -> free disk -> the streamed body with its cap and read timeouts, the password checked as the file part
begins (then admission) -> memory -> image type, pixels, one full decode -> the provider chain resolved.
The upload's temp file goes if any check fails."""

import dataclasses
from pathlib import Path
from typing import Any

import anyio
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core import images
from photochanger.core.clients import client_key
from photochanger.core.multipart import MULTIPART_OVERHEAD_BYTES, ParsedUpload, read_upload
from photochanger.core.storage import unlink_quietly
from photochanger.core.time import utcnow
from photochanger.core.uploads import InvalidRequest, PayloadTooLarge, guarded_body
from photochanger.ingest.chain import Link, resolve_fallbacks
from photochanger.ingest.exceptions import (
    IngestTimeout,
    InvalidImage,
    InvalidPassword,
    ProviderFailure,
    SlotDisabled,
    SlotNotFound,
    TooManyPasswordAttempts,
    UnsupportedMediaType,
)
from photochanger.ingest.password import HashingBusy, IngestPasswordVerifier, ThrottleRefused
from photochanger.ingest.pipeline import idempotency
from photochanger.ingest.pipeline.admission import Admission, held_after_inspection
from photochanger.ingest.pipeline.db import busy
from photochanger.ingest.pipeline.request import (
    MIB,
    PREVIEW_LONG_SIDE,
    Context,
    IngestRequest,
    Kit,
    Received,
    public_fields,
)
from photochanger.models import JobSource
from photochanger.models.job import new_job_id
from photochanger.providers.base import Deadline, InputCapped, Provider
from photochanger.providers.registry import UnknownOperation, UnknownProvider
from photochanger.settings import service as settings_service
from photochanger.slots import service as slots_service

BOOTH_FILE_FIELD = "fileToUpload"


class Receiver:
    def __init__(self, kit: Kit, admission: Admission) -> None:
        self.kit = kit
        self.config = kit.config
        self.layout = kit.layout
        self.providers = kit.providers
        self.keys = kit.keys
        self.db = kit.db
        self.admission = admission
        self.verifier = IngestPasswordVerifier()
        # Each known slot's provider, for the labels of requests refused before their job exists.
        self.slot_providers: dict[str, str] = {}

    async def receive(self, request: IngestRequest, seen: dict[str, str]) -> Received:
        """`seen` receives the upload's text fields as soon as they are read, so a refusal after that
        point can name the booth."""
        sender = client_key(request.client)
        if request.checks_password:  # a client that keeps guessing is refused before a byte is read
            try:
                self.verifier.check_client(sender)
            except ThrottleRefused as exc:
                raise TooManyPasswordAttempts(exc.retry_after) from None
        # Admins may test a switched-off slot before they switch it on; booths may not upload to one.
        ctx = await self._load_context(request.slot_id, require_active=request.source is JobSource.ingest)
        if request.slot_override is not None:
            provider_id, operation_id, slot_settings = request.slot_override
            ctx = dataclasses.replace(
                ctx, provider=provider_id, operation=operation_id, slot_settings=slot_settings
            )
        deadline = Deadline(request.arrived_at + ctx.runtime.t_sync_response_seconds)
        cap = ctx.runtime.upload_max_mb * MIB
        if ctx.slot_settings.size_limit_mb is not None:
            cap = min(cap, ctx.slot_settings.size_limit_mb * MIB)
        declared = request.content_length
        if request.upload is not None:
            declared = request.upload.size
        if declared is not None and declared > cap + MULTIPART_OVERHEAD_BYTES:
            raise PayloadTooLarge(f"The upload is larger than {cap // MIB} MiB.")
        # Room for the upload and its result; refusing here means no partial file is ever written.
        # (The disk floor, or the bucket's quota.)
        await anyio.to_thread.run_sync(self.kit.store.ensure_room, 2 * (declared or cap))

        job_id = new_job_id()
        if request.upload is not None:
            # A test run's photo, read by its route: the operator's form fields are no booth's.
            upload = dataclasses.replace(request.upload, fields={})
            if upload.size > cap:
                await _discard(upload)
                raise PayloadTooLarge(f"The photo is larger than {cap // MIB} MiB.")
            verified = True
        else:
            upload, verified = await self._read_body(request, ctx, cap, job_id, sender, seen)
        seen.update(public_fields(upload.fields))
        try:
            if not verified:  # the password came after the photo
                await self._check_password(ctx, upload.fields.get("password"), sender)
            if upload.size == 0:
                raise InvalidImage("The photo is empty.")
            with self.admission.being_checked(ctx):
                input_side = await anyio.to_thread.run_sync(self._input_side, ctx, upload.path)
                memory, kept = await self.admission.reserve_memory(
                    upload.path, upload.size, deadline, input_side
                )
                try:
                    info = await self._inspect(upload, deadline, input_side)
                    keyed = self.keys is not None and await self.keys.has_keys(ctx.provider)
                    provider, options = self._resolve(ctx, keyed=keyed)
                    links = [Link(0, provider, ctx.operation, options)]
                    if ctx.slot_settings.fallbacks:
                        links += await self._fallbacks(ctx)
                except BaseException:
                    self.admission.inflight.release(memory)
                    raise
            # The bitmap is gone; what the job holds from now on is known from the decode's products.
            kept = min(kept, held_after_inspection(upload.size, info, input_side))
            self.admission.inflight.release(memory - kept)
        except BaseException:
            await _discard(upload)
            raise
        key = (
            idempotency.key_for(request.idempotency_header, upload.fields)
            if request.source is JobSource.ingest
            else None
        )
        return Received(
            ctx=ctx,
            job_id=job_id,
            upload=upload,
            info=info,
            deadline=deadline,
            provider=provider,
            options=options,
            source=request.source,
            arrived_at=request.arrived_at,
            started=request.now or utcnow(),
            idempotency_key=key,
            fields=dict(seen),
            memory=kept,
            links=links,
        )

    async def _read_body(
        self, request: IngestRequest, ctx: Context, cap: int, job_id: str, sender: str, seen: dict[str, str]
    ) -> tuple[ParsedUpload, bool]:
        """Stream the booth's body to a temp file. An upload counts against admission only once its password
        checked out. Booths send their text fields before the photo, so the check runs as the file part
        begins; a stranger trickling a body (or sending a wrong password) never takes the place of a real
        shot. Returns the upload and whether its password was checked."""
        if request.body is None:
            raise TypeError("an IngestRequest carries the booth's body or an upload already read")
        verified = not request.checks_password
        with self.admission.arriving(ctx) as admit:

            async def on_file_start(fields: dict[str, str]) -> None:
                nonlocal verified
                seen.update(public_fields(fields))
                if "password" in fields:
                    await self._check_password(ctx, fields["password"], sender)
                    verified = True
                    admit()

            if verified:
                admit()
            upload = await read_upload(
                guarded_body(
                    request.body,
                    idle_seconds=self.config.upload_idle_timeout_seconds,
                    total_seconds=self.config.upload_total_timeout_seconds,
                    arrived_at=request.arrived_at,
                ),
                content_type=request.content_type,
                dest=self.layout.upload_path(self.kit.owner, job_id),
                max_bytes=cap,
                file_field=BOOTH_FILE_FIELD,
                on_file_start=None if verified else on_file_start,
            )
        return upload, verified

    async def _fallbacks(self, ctx: Context) -> list[Link]:
        keyed = {
            f.provider
            for f in ctx.slot_settings.fallbacks
            if self.keys and await self.keys.has_keys(f.provider)
        }
        return resolve_fallbacks(
            self.providers, ctx.slot_settings.fallbacks, lambda p: p.configured or p.id in keyed
        )

    async def _load_context(self, slot_id: str, *, require_active: bool = True) -> Context:
        async def load(session: AsyncSession) -> Context:
            slot = await slots_service.get_config(session, slot_id)
            if slot is None:
                raise SlotNotFound(f"There is no slot {slot_id!r}.")
            if require_active and not slot.is_active:
                raise SlotDisabled(f"Slot {slot_id} is switched off.")
            self.slot_providers[slot.id] = slot.provider
            runtime = await settings_service.load(session)
            password = await settings_service.ingest_password_state(session)
            return Context(
                slot.id, slot.provider, slot.operation, slot.settings, runtime, password.password_hash
            )

        return await self.db.read(load)

    async def _check_password(self, ctx: Context, password: str | None, client: str) -> None:
        if not password:
            raise InvalidRequest("The ingest password is missing.")
        if ctx.password_hash is None:
            raise InvalidPassword("The ingest password is wrong.")
        try:
            ok = await self.verifier.verify(ctx.password_hash, password, client=client)
        except ThrottleRefused as exc:
            raise TooManyPasswordAttempts(exc.retry_after) from None
        except HashingBusy:
            raise busy("Too many password checks in progress; try again in a few seconds.") from None
        if not ok:
            raise InvalidPassword("The ingest password is wrong.")

    async def _inspect(
        self, upload: ParsedUpload, deadline: Deadline, input_side: int | None
    ) -> images.ImageInfo:
        """One decode validates the photo and makes its preview and the provider's input, bounded in CPU
        time and by the deadline (which also bounds the wait for the image pool)."""
        budget = images.DecodeBudget(self.config.decode_cpu_seconds, deadline.at)
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

    def _input_side(self, ctx: Context, path: Path) -> int | None:
        """The long side the slot's provider sends the photo at (for its options and the photo's size from
        its header), when it downscales the photo before sending it. Blocking: run it in a thread."""
        try:
            provider = self.providers.get(ctx.provider)
            operation = self.providers.operation(ctx.provider, ctx.operation)
        except (UnknownProvider, UnknownOperation):
            return None
        if not isinstance(provider, InputCapped):
            return None
        size = images.header_size(path)
        try:
            options = operation.options_model.model_validate(self._params(ctx, operation.options_model))
        except ValidationError:
            return provider.input_max_side  # refused when the provider is resolved
        if size is None:
            return provider.input_max_side  # refused by the validation decode
        return provider.input_side(ctx.operation, options, size)

    def _params(self, ctx: Context, model: type[BaseModel]) -> dict[str, Any]:
        """The slot's parameters, with the admin's default model for the provider when they name none."""
        params = ctx.slot_settings.params
        default_model = self.keys.limits(ctx.provider).default_model if self.keys is not None else None
        if default_model and "model" not in params and "model" in model.model_fields:
            params = {**params, "model": default_model}
        return params

    def _resolve(self, ctx: Context, *, keyed: bool = False) -> tuple[Provider, BaseModel]:
        try:
            provider = self.providers.get(ctx.provider)
            operation = self.providers.operation(ctx.provider, ctx.operation)
        except (UnknownProvider, UnknownOperation) as exc:
            raise ProviderFailure(f"Slot {ctx.slot_id} names an unknown provider or operation.") from exc
        if not (keyed or provider.configured):
            raise ProviderFailure(f"Provider {ctx.provider} is not configured (no API key).")
        try:
            options = operation.options_model.model_validate(self._params(ctx, operation.options_model))
        except ValidationError as exc:
            raise ProviderFailure(
                f"Slot {ctx.slot_id} has invalid parameters; fix them in the admin UI."
            ) from exc
        return provider, options


async def _discard(upload: ParsedUpload) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(unlink_quietly, upload.path)
