"""Streaming ZIP writer: stored (uncompressed) entries emitted chunk by chunk, never a whole archive in memory.

Photos are already compressed, so entries are stored; the archive is written to a small buffer that is
drained after every chunk, and zipfile's data descriptors mean nothing needs seeking back.
"""

import io
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.responses import StreamingResponse

CHUNK_BYTES = 256 * 1024


@dataclass(frozen=True)
class ZipEntry:
    name: str
    path: Path
    modified: datetime


class _Sink(io.RawIOBase):
    """A write-only, non-seekable target that hands out what was written since the last `take`."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def iter_zip(entries: Iterable[ZipEntry], *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield a ZIP archive of `entries` piece by piece. Blocking file reads: iterate it in a thread
    (Starlette's `StreamingResponse` does so for a plain iterator). Entries whose file vanished (cleanup
    ran meanwhile) are skipped."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            try:
                handle = entry.path.open("rb")
            except FileNotFoundError:
                continue
            with handle:
                info = zipfile.ZipInfo(entry.name, date_time=entry.modified.timetuple()[:6])
                info.compress_type = zipfile.ZIP_STORED
                info.file_size = os.fstat(handle.fileno()).st_size
                with archive.open(info, "w") as out:
                    while chunk := handle.read(chunk_bytes):
                        out.write(chunk)
                        if data := sink.take():
                            yield data
            if data := sink.take():
                yield data
    if data := sink.take():
        yield data


# The OpenAPI description of a route answering `zip_response`.
ZIP_OPENAPI: dict[str, Any] = {"description": "A ZIP of stored entries", "content": {"application/zip": {}}}


def zip_response(
    entries: Iterable[ZipEntry], filename: str, *, headers: dict[str, str] | None = None
) -> StreamingResponse:
    """`entries` streamed as the attachment `filename`, not cached unless `headers` say otherwise."""
    # A plain iterator: Starlette pulls it in a worker thread, so file reads stay off the event loop.
    return StreamingResponse(
        iter_zip(entries),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )
