"""Execution: the job's provider chain (each link with its provider's keys in turn, fallbacks, hedging) under
the absolute deadline, then the result file and its preview written atomically; the outcome records how the
job ended, whatever ended it."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.accounts.rotation import KeyedResult, call_with_keys
from photochanger.core import images, last_shots
from photochanger.core.media_store import MediaStore
from photochanger.core.storage import unlink_quietly
from photochanger.ingest.chain import ChainFailed, Link, run_chain
from photochanger.ingest.exceptions import ProviderFailure
from photochanger.ingest.pipeline.outcome import Ending, Outcome, booth_error_for, reason_of
from photochanger.ingest.pipeline.request import (
    PREVIEW_LONG_SIDE,
    IngestResult,
    Kit,
    Received,
    elapsed_ms,
)
from photochanger.models import JobSource, JobStatus
from photochanger.providers.base import (
    Deadline,
    Photo,
    Provider,
    ProviderError,
    ProviderFailed,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    TemplateImage,
)
from photochanger.public import provider_media
from photochanger.slots.schemas import OnFailure

logger = logging.getLogger(__name__)

TemplateLoader = Callable[[AsyncSession, MediaStore, list[str]], Awaitable[dict[str, TemplateImage]]]


class Execution:
    def __init__(self, kit: Kit, outcome: Outcome, template_loader: TemplateLoader | None) -> None:
        self.kit = kit
        self.layout = kit.layout
        self.providers = kit.providers
        self.links = kit.links
        self.outcome = outcome
        self.template_loader = template_loader

    async def execute(self, r: Received) -> IngestResult:
        """Run the inserted job to its end; the booth's image (the result, or the original as the slot's
        fallback), else the booth's error."""
        output_type = r.ctx.slot_settings.output_format.mime
        provider_started = time.monotonic()
        finished = False
        # The upload stays on disk until this job ends, so the last shot can go to a bucket meanwhile.
        keeping = asyncio.create_task(self._keep_last_shot(r))
        if self.kit.store.kind == "local":
            await keeping  # a second name of the file: done before the provider starts
        try:
            # Read from disk only by a driver that needs the bytes: one that sends the input the validation
            # prepared never does, and the job does not hold the photo while its provider works.
            photo = Photo(path=r.upload.path, metadata_free=r.info.metadata_free)
            request = ProviderRequest(
                job_id=r.job_id,
                photo=photo,
                content_type=r.info.content_type,
                options=r.options,
                deadline=r.deadline,
                templates=await self._templates(r),
                output_type=output_type,
                public_media_url=self._publisher(r),
                guest_url=self.links.guest_url(r.job_id),
                prepared_input=r.info.provider_input,
                image_size=(r.info.width, r.info.height),
            )
            try:
                result = await self._call_provider(r, request)
            except ProviderError as exc:
                answer = await self._fail(r, exc, photo, output_type, elapsed_ms(provider_started))
                finished = True
                return answer
            provider_ms = elapsed_ms(provider_started)
            if r.deadline.expired:
                # Late output is dropped: the booth has been told (or is being told) 504.
                late = ProviderTimeout("the provider answered after the deadline")
                answer = await self._fail(r, late, photo, output_type, provider_ms)
                finished = True
                return answer
            answer = await self._store(r, result, output_type, provider_ms)
            finished = True
            return answer
        finally:
            with anyio.CancelScope(shield=True):
                await keeping
                if not finished:
                    await self.outcome.interrupted(r)
                if r.published:
                    await anyio.to_thread.run_sync(lambda: unlink_quietly(*r.published))
                event = self.kit.running.pop(r.job_id, None)
                if event is not None:
                    event.set()

    async def _keep_last_shot(self, r: Received) -> None:
        """A booth shot becomes its slot's last shot, for the admin's trial runs (`core.last_shots`): on the
        filesystem a second name of the upload, before the provider is called so a failed shot can be tried
        again; to a bucket an upload beside the provider call. It never fails the shot."""
        if r.source != JobSource.ingest:
            return
        try:
            await anyio.to_thread.run_sync(
                last_shots.keep, self.kit.store, r.ctx.slot_id, r.upload.path, r.info.content_type
            )
        except Exception:  # a full disk, an unreachable bucket: the shot itself goes on
            logger.warning("last booth shot not kept", exc_info=True, extra={"slot_id": r.ctx.slot_id})

    async def _templates(self, r: Received) -> dict[str, TemplateImage]:
        ids: list[str] = []
        for link in r.chain():
            operation = self.providers.operation(link.provider.id, link.operation)
            ids += [i for i in operation.template_ids(link.options) if i not in ids]
        if not ids:
            return {}
        if self.template_loader is None:
            raise ProviderFailure("Template media are not available on this server.")
        loader = self.template_loader
        templates = await self.kit.db.read(lambda session: loader(session, self.kit.store, ids))
        missing = [i for i in ids if i not in templates]
        if missing:
            raise ProviderFailure(
                f"Slot {r.ctx.slot_id} uses template media that no longer exist: {missing}."
            )
        return templates

    def _publisher(self, r: Received) -> Callable[[bytes, str], Awaitable[str]]:
        async def publish(data: bytes, content_type: str) -> str:
            expires = time.time() + r.deadline.remaining()
            token, path = await anyio.to_thread.run_sync(
                provider_media.publish, self.layout, self.kit.owner, data, content_type, expires
            )
            r.published.append(path)
            # The extension matches the content: Turbotext reads a link's type from its name.
            ext = images.EXTENSION_BY_MIME[content_type]
            return self.kit.config.absolute_url(f"/public/provider-media/{token}.{ext}")

        return publish

    async def _call_provider(self, r: Received, request: ProviderRequest) -> ProviderResult:
        """The first image of the slot's chain; what each link did is kept on `r` for the job row. Raises
        the telling `ProviderError` when no link answered."""

        async def run_link(link: Link, link_request: ProviderRequest) -> KeyedResult:
            async def once(keyed: ProviderRequest) -> ProviderResult:
                return await _call_once(link.provider, link.operation, keyed, r.deadline)

            keys = self.kit.keys
            if keys is None:
                return KeyedResult(await once(link_request), None)
            return await call_with_keys(keys, link.provider.id, link_request, once)

        try:
            outcome = await run_chain(
                r.chain(), request, r.deadline, run_link, hedge_after=r.ctx.slot_settings.hedge_after_seconds
            )
        except ChainFailed as failed:
            r.attempts = failed.attempts
            raise failed.error from None
        r.attempts, r.result_link = outcome.attempts, outcome.link
        return outcome.result

    async def _store(
        self, r: Received, result: ProviderResult, output_type: str, provider_ms: int
    ) -> IngestResult:
        # A result that is the upload itself (a clean JPEG passed through: a `Photo` result, unread) becomes a
        # second name of the upload's file: nothing read, copied, written or synced twice, and the booth is
        # answered from that file. The original an event keeps is that file too.
        photo = result.photo
        data: bytes | None = None
        if photo is None:
            data = result.data
            if images.sniff(data[:16]) != output_type:
                try:
                    data = await images.run_image_work(images.reencode, data, output_type)
                except images.ImageProblem as exc:
                    raise ProviderFailure("The provider returned an unreadable image.") from exc
        ext = images.EXTENSION_BY_MIME[output_type]
        result_rel = self.layout.result_relpath(r.ctx.slot_id, r.job_id, ext)
        preview_rel = self.layout.preview_relpath(r.ctx.slot_id, r.job_id)

        # A result with the input's pixels reuses the preview made while validating: no second decode.
        unchanged = photo is not None or data is result.data
        reuse = r.info.preview if result.meta.get("same_pixels") and unchanged else None
        original = self._original(r)
        files = (result_rel, preview_rel) if original is None else (result_rel, preview_rel, original[1])
        store = self.kit.store
        upload_path = r.upload.path

        def write_files() -> bytes | memoryview:
            # Into the media store (the filesystem or the bucket); the row points at them only afterwards.
            if data is None:
                store.put_copy(result_rel, upload_path, output_type)
            else:
                store.put(result_rel, data, output_type)
            preview = reuse or images.thumbnail(upload_path if data is None else data, PREVIEW_LONG_SIDE)
            store.put(preview_rel, preview, "image/jpeg")
            if original is not None:
                store.put_copy(original[1], upload_path, r.info.content_type)
            if data is not None:
                return data
            # The booth's answer: the stored file mapped (never read into memory), else the photo's bytes.
            mapped = store.read_view(result_rel) if store.kind == "local" else None
            return mapped if mapped is not None else result.data

        try:
            body = await images.run_image_work(write_files)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(store.delete, list(files))
            raise
        duration_ms = elapsed_ms(r.arrived_at)
        finished_at = r.started + timedelta(milliseconds=duration_ms)
        columns = {
            "result_path": result_rel,
            "result_type": output_type,
            "result_size": r.upload.size if data is None else len(data),
            "result_expires_at": finished_at + timedelta(hours=r.ctx.runtime.result_ttl_hours),
            "preview_path": preview_rel,
        }
        ending = Ending(
            JobStatus.done,
            duration_ms,
            provider_ms,
            finished_at,
            columns=columns,
            original=original,
            files=files,
        )
        await self.outcome.end(r, ending)
        return self.links.answer(r.job_id, body, output_type, duration_ms=duration_ms)

    def _original(self, r: Received) -> tuple[str, str, int] | None:
        """(event id, relative path, size) of the original shot to keep, when the job's event keeps them."""
        if r.event is None or not r.event[1]:
            return None
        ext = images.EXTENSION_BY_MIME.get(r.info.content_type, "bin")
        return r.event[0], self.layout.original_relpath(r.ctx.slot_id, r.job_id, ext), r.upload.size

    async def _fail(
        self, r: Received, exc: ProviderError, photo: Photo, output_type: str, provider_ms: int
    ) -> IngestResult:
        status = JobStatus.timeout if isinstance(exc, ProviderTimeout) else JobStatus.failed
        fallback = r.ctx.slot_settings.on_failure is OnFailure.original and r.mode == "sync"
        duration_ms = elapsed_ms(r.arrived_at)
        finished_at = r.started + timedelta(milliseconds=duration_ms)
        ending = Ending(status, duration_ms, provider_ms, finished_at, error=exc, fallback=fallback)
        await self.outcome.end(r, ending)
        if not fallback:
            raise booth_error_for(exc)
        image = await anyio.to_thread.run_sync(lambda: photo.data)
        try:
            data = await images.run_image_work(images.reencode, image, output_type)
        except images.ImageProblem:
            data = image
            output_type = images.sniff(image[:16]) or output_type
        return self.links.answer(
            r.job_id, data, output_type, duration_ms=duration_ms, fallback=reason_of(exc)
        )


async def _call_once(
    provider: Provider, operation: str, request: ProviderRequest, deadline: Deadline
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
    # A `Photo` result is the validated photo itself (and is not read here, on the event loop).
    if result.photo is None and images.sniff(result.data[:16]) is None:
        raise ProviderFailed("the provider returned something that is not an image")
    return result
