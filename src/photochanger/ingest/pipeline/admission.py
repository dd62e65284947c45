"""Admission: whether an upload may take its place, the memory it holds, and its concurrency permits.

An upload counts against the permits from the moment its password checked out: while its body still streams
(`arriving`), while it waits for memory and is decoded (`checking`), and once it holds its permits. When the
uploads already running or arriving would fill the permits twice over, a new one is refused at once (429),
before its photo is read: a flood costs neither bandwidth, memory nor CPU.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import anyio

from photochanger.accounts.store import KeyStore
from photochanger.config import AppConfig
from photochanger.core import images
from photochanger.core.inflight import InFlightBytes
from photochanger.core.limits import Limiter, Limits, PermitTimeout
from photochanger.core.memory import trim_malloc
from photochanger.ingest.exceptions import IngestTimeout
from photochanger.ingest.pipeline.db import busy
from photochanger.ingest.pipeline.request import MIB, PREVIEW_LONG_SIDE, Context, Received
from photochanger.providers.base import Deadline

# Uploads admitted per permit: one running and one arriving keeps the pipeline full without queuing a flood.
ADMISSION_FACTOR = 2
# What a job whose provider downscales holds, in units of the input it sends: that input, then the answer
# (its body, the base64 text, the image decoded from it, about the input's size each).
ANSWER_FACTOR = 4
# The heap is trimmed once no upload has been in flight this long: after a burst, not between the shots
# of a busy booth, where a trim would only have the next upload fault the same pages in again.
IDLE_TRIM_SECONDS = 2.0


class Admission:
    def __init__(self, config: AppConfig, limiter: Limiter, keys: KeyStore | None) -> None:
        self.config = config
        self.limiter = limiter
        self.keys = keys
        self.inflight = InFlightBytes(config.image_memory_mb * MIB)
        # Uploads still streaming in, per slot.
        self.reading: Counter[str] = Counter()
        # Uploads read but not yet holding permits (waiting for memory, being decoded).
        self.checking: Counter[str] = Counter()
        self._idle_spells = 0

    def check(self, ctx: Context) -> None:
        """429 `busy` when the slot's or the server's load (permits held, uploads arriving or being
        checked) reaches `ADMISSION_FACTOR` times its concurrency."""
        runtime = ctx.runtime
        slot_load = self.limiter.in_flight(slot=ctx.slot_id) + self.reading[ctx.slot_id]
        slot_load += self.checking[ctx.slot_id]
        total_load = self.limiter.in_flight() + sum(self.reading.values()) + sum(self.checking.values())
        if slot_load >= ADMISSION_FACTOR * runtime.slot_concurrency or (
            total_load >= ADMISSION_FACTOR * runtime.global_concurrency
        ):
            raise busy(f"Slot {ctx.slot_id} is busy; try again in a few seconds.")

    @contextmanager
    def arriving(self, ctx: Context) -> Iterator[Callable[[], None]]:
        """For the body's read: yields `admit`, which checks the load and counts the upload as arriving
        until the block ends (call it once the password checked out)."""
        admitted = False

        def admit() -> None:
            nonlocal admitted
            self.check(ctx)
            self.reading[ctx.slot_id] += 1
            admitted = True

        try:
            yield admit
        finally:
            if admitted:
                _leave(self.reading, ctx.slot_id)

    @contextmanager
    def being_checked(self, ctx: Context) -> Iterator[None]:
        self.checking[ctx.slot_id] += 1
        try:
            yield
        finally:
            _leave(self.checking, ctx.slot_id)

    async def reserve_memory(
        self, path: Path, size: int, deadline: Deadline, input_side: int | None
    ) -> tuple[int, int]:
        """Reserve the bytes the upload holds in memory for its life (the photo, the result) together with
        the bitmap its validation decode holds, in one go, so no upload holds a part while it waits for the
        rest. Returns what was taken and the part to keep once the decode is done. Waits within the
        deadline (504 past it)."""
        cost = await anyio.to_thread.run_sync(
            lambda: images.decode_cost(path, preview_long_side=PREVIEW_LONG_SIDE, input_long_side=input_side)
        )
        held = held_before_inspection(size, input_side, cost.input_bound)
        # A burst of big photos queues here, first come first served, within each one's deadline.
        try:
            async with asyncio.timeout(deadline.remaining()):
                taken = await self.inflight.reserve(held + cost.bitmap)
        except TimeoutError:
            raise IngestTimeout("The photo was not processed in time.") from None
        return taken, min(taken, held)

    def release(self, r: Received) -> None:
        self.inflight.release(r.memory)
        r.memory = 0

    def trim_when_idle(self) -> None:
        """Called as an upload's memory is released: when it was the last, hand the heap's free pages back
        (see `core.memory`) in a worker thread once `IDLE_TRIM_SECONDS` pass with no upload in flight."""
        if self.inflight.used != 0:
            return
        self._idle_spells += 1
        idle_since = self._idle_spells
        loop = asyncio.get_running_loop()

        def trim() -> None:
            if self.inflight.used == 0 and self._idle_spells == idle_since:
                loop.run_in_executor(None, trim_malloc)

        loop.call_later(IDLE_TRIM_SECONDS, trim)

    @asynccontextmanager
    async def permits(self, r: Received) -> AsyncIterator[None]:
        """The slot's, the provider's and a global permit for the job's run; a wait past the configured one
        (or the deadline) is 429 `busy`."""
        per_provider = self.keys.limits(r.ctx.provider).concurrency if self.keys is not None else None
        runtime = r.ctx.runtime
        limits = Limits(
            runtime.slot_concurrency, per_provider or runtime.provider_concurrency, runtime.global_concurrency
        )
        wait = min(self.config.permit_wait_seconds, r.deadline.remaining())
        async with AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(
                    self.limiter.permits(r.ctx.slot_id, r.ctx.provider, limits, wait=wait)
                )
            except PermitTimeout:
                raise busy(f"Slot {r.ctx.slot_id} is busy; try again in a few seconds.") from None
            yield


def held_before_inspection(size: int, input_side: int | None, input_bound: int) -> int:
    """What an upload may hold for its life once validated, besides its decode's bitmap, before the decode
    says more: a local operation reads the photo and makes a result of about its size; a remote one
    sends an input of at most `input_bound` (the photo, or its fit to the provider's cap, from the header:
    a 12 MB 6000 x 4000 shot for a 1280 px cap sends at most 3.3 MB) and gets its answer
    (`held_after_inspection`)."""
    return 2 * size if input_side is None else ANSWER_FACTOR * min(size, input_bound)


def held_after_inspection(size: int, info: images.ImageInfo, input_side: int | None) -> int:
    """What a validated upload holds until its job ends. A local operation: the photo and a result of its
    size. A remote one: the input it sends (the prepared one, or the photo as it is; the photo itself is
    never read when the input was prepared), then the provider's answer (`ANSWER_FACTOR`). Checked in
    `make bench` (holding): 30 Gemini jobs at 2.6 MB, with 1.2 MB inputs and 1 MB answers, add about
    100 MB to the resident size, 3.3 MB a job, under the 4.8 MB each reserves."""
    if input_side is None:
        return 2 * size
    sent = len(info.provider_input.data) if info.provider_input is not None else size
    return ANSWER_FACTOR * sent


def _leave(counter: Counter[str], slot_id: str) -> None:
    counter[slot_id] -= 1
    if counter[slot_id] <= 0:
        del counter[slot_id]
