"""Idempotency: a repeated upload joins its original job instead of running again.

The key is the booth's `Idempotency-Key` header, or its shot `id` with its `hash`. A repeat of a job still
running waits for it (on its in-process event, or by polling another worker's row); a repeat of a finished
one replays the stored result. A key whose job is too old, failed or gone is released so the upload runs
afresh."""

import asyncio
from datetime import timedelta

import anyio

from photochanger.core.time import utcnow
from photochanger.ingest import repository
from photochanger.ingest.exceptions import IdempotencyConflict, IngestTimeout
from photochanger.ingest.pipeline.outcome import booth_error
from photochanger.ingest.pipeline.request import IngestResult, Kit, Received
from photochanger.models import Job, JobStatus
from photochanger.providers.base import Deadline

JOIN_POLL_SECONDS = 0.25
# Idempotency keys the client chose (`Idempotency-Key`) start with this; derived ones with `booth:`.
EXPLICIT_KEY = "key:"


class KeyTaken(Exception):
    """Another request inserted a job with the same idempotency key first."""


def key_for(header: str | None, fields: dict[str, str]) -> str | None:
    """`Idempotency-Key` when given; otherwise the booth's shot `id` with its `hash`, when both are sent."""
    if header and header.strip():
        return EXPLICIT_KEY + header.strip()[:200]
    shot, digest = fields.get("id", "").strip(), fields.get("hash", "").strip()
    if shot and digest:
        return f"booth:{shot[:100]}:{digest[:100]}"
    return None


class Idempotency:
    def __init__(self, kit: Kit) -> None:
        self.db = kit.db
        self.store = kit.store
        self.links = kit.links
        self.window_seconds = kit.config.idempotency_window_seconds
        self.running = kit.running

    async def find(self, r: Received) -> Job | None:
        """The earlier job this upload repeats (pending or done, inside the window), else None."""
        if r.idempotency_key is None:
            return None
        job = await self.db.run("idempotency lookup", repository.by_key, r.ctx.slot_id, r.idempotency_key)
        if job is None:
            return None
        too_old = job.created_at < r.started - timedelta(seconds=self.window_seconds)
        if job.sha256 != r.upload.sha256 and not too_old and r.idempotency_key.startswith(EXPLICIT_KEY):
            raise IdempotencyConflict("A different photo was already sent under this idempotency key.")
        # A key derived from the booth's fields names a shot only as long as the photo is the same: a
        # booth whose counter restarted sends a new shot under an old id, and it takes the key over.
        if too_old or job.sha256 != r.upload.sha256 or job.status not in (JobStatus.pending, JobStatus.done):
            await self.db.run("idempotency release", repository.release_key, job.id)
            return None
        return job

    async def join(self, r: Received) -> IngestResult | None:
        """The original job's answer (waiting for it while it runs), or None when the upload runs afresh."""
        job = await self.find(r)
        if job is None:
            return None
        if job.status == JobStatus.pending:
            job = await self._wait_for(job.id, r.deadline)
        if job.status == JobStatus.done:
            stored = await self._replay(job)
            if stored is not None:
                return stored
            await self.db.run("idempotency release", repository.release_key, job.id)
            return None
        raise booth_error(job.failure_reason)

    async def _wait_for(self, job_id: str, deadline: Deadline) -> Job:
        while True:
            event = self.running.get(job_id)
            try:
                if event is not None:
                    async with asyncio.timeout(deadline.remaining()):
                        await event.wait()
                else:
                    await asyncio.sleep(min(JOIN_POLL_SECONDS, deadline.remaining()))
            except TimeoutError:
                pass
            job = await self.db.run("idempotency wait", repository.get_detached, job_id)
            if job is None:
                raise IngestTimeout("The original upload of this photo vanished.")
            if job.status != JobStatus.pending:
                return job
            if deadline.expired:
                raise IngestTimeout("The original upload of this photo is still being processed.")

    async def _replay(self, job: Job) -> IngestResult | None:
        if job.result_path is None or job.result_type is None:
            return None
        if job.result_expires_at is not None and job.result_expires_at <= utcnow():
            return None
        data = await anyio.to_thread.run_sync(self.store.read_view, job.result_path)
        if data is None:
            return None
        return self.links.answer(job.id, data, job.result_type, duration_ms=job.duration_ms or 0, joined=True)
