"""HTTP responses for stored media: a `FileResponse` from the filesystem backend, a stream from a bucket."""

from collections.abc import Callable, Iterator, Mapping
from typing import BinaryIO

import anyio
from starlette.responses import FileResponse, Response, StreamingResponse

from photochanger.core.media_store import MediaStore

CHUNK_BYTES = 256 * 1024


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    """Blocking reads; Starlette iterates a plain iterator in its thread pool."""
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


async def stored_response(
    store: MediaStore,
    key: str,
    *,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    missing: Callable[[], Exception],
) -> Response:
    """The object at `key` as the response body; raises `missing()` when there is none."""
    path = store.local_path(key)
    if path is not None:
        try:
            stat = await anyio.to_thread.run_sync(path.stat)
        except (FileNotFoundError, NotADirectoryError):
            raise missing() from None
        return FileResponse(path, media_type=media_type, headers=dict(headers or {}), stat_result=stat)
    handle = await anyio.to_thread.run_sync(store.open, key)
    if handle is None:
        raise missing()
    return StreamingResponse(_chunks(handle), media_type=media_type, headers=dict(headers or {}))
