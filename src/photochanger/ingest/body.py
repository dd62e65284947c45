"""The request body as the ingest pipeline reads it: bounded in idle and total time, a vanished client named."""

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect

from photochanger.ingest.exceptions import ClientClosed, UploadTimeout


async def guarded_body(
    chunks: AsyncIterator[bytes], *, idle_seconds: float, total_seconds: float, arrived_at: float
) -> AsyncIterator[bytes]:
    """Yield the body's chunks; `UploadTimeout` (408) when no chunk comes for `idle_seconds` or the body is
    not complete `total_seconds` after `arrived_at` (`time.monotonic()`), `ClientClosed` (499) when the
    client disconnects. Behind nginx, which buffers bodies, neither timeout is reached; exposed directly,
    they stop a trickling client from holding a connection, a temp file and a worker for ever."""
    iterator = aiter(chunks)
    give_up = arrived_at + total_seconds
    while True:
        left = give_up - time.monotonic()
        if left <= 0:
            raise UploadTimeout(f"The upload was not complete within {total_seconds:g} seconds.")
        try:
            async with asyncio.timeout(min(idle_seconds, left)):
                chunk = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            if time.monotonic() >= give_up:
                raise UploadTimeout(
                    f"The upload was not complete within {total_seconds:g} seconds."
                ) from None
            raise UploadTimeout(f"No data arrived for {idle_seconds:g} seconds.") from None
        except ClientDisconnect:
            raise ClientClosed("The client closed the connection before its upload was read.") from None
        yield chunk
