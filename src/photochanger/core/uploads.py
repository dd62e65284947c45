"""An upload's request body as upload routes read it: bounded in idle and total time, a vanished client named,
and the problems of reading one (the multipart reader's, `core.multipart`, too)."""

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect

from photochanger.core.errors import PhotoChangerError


class InvalidRequest(PhotoChangerError):
    status_code = 400
    code = "invalid_request"
    title = "Invalid request"


class UploadTimeout(PhotoChangerError):
    status_code = 408
    code = "upload_timeout"
    title = "The upload arrived too slowly"


class ClientClosed(PhotoChangerError):
    """The client went away before its upload was read: nobody hears the answer; logged at INFO, counted
    under its own code and status (nginx's 499), never as a server error."""

    status_code = 499
    code = "client_closed"
    title = "Client closed the request"


class PayloadTooLarge(PhotoChangerError):
    status_code = 413
    code = "payload_too_large"
    title = "Upload too large"


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
