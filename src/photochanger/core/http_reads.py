"""uvicorn's HTTP protocol reading sockets into one shared buffer, a bounded piece at a time.

Under uvloop, every socket read becomes a new bytes object of up to 256 KiB, and the parser copies the body
out of it again into the request's buffer, which uvicorn lets grow past its 64 KiB high-water mark by a
whole read before it pauses the connection. When a burst of booths connects at once, every connection's
first reads land in memory before any handler runs: in `make bench`'s holding load (200 uploads at once)
uvicorn's body buffers were 36 MB of the heap at its high-water mark (memray), before admission could refuse
a single upload, and their freed pieces stayed in the heap as fragments.

Here the event loop reads each socket into one buffer the loop shares (`asyncio.BufferedProtocol`), at most
`READ_BYTES` at a time, and the parser takes the request from it at once; a paused connection's further
bytes wait in the kernel's socket buffer, which is not the process's memory. The holding load's peak RSS
went from 279-285 to 240-243 MB; the passthrough's CPU per 11 MB upload stayed within the run-to-run noise.
Nothing else about the protocol changes: it wraps uvicorn's `HttpToolsProtocol`.
"""

import asyncio
import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# One read per loop iteration and connection. 64 KiB is uvicorn's own high-water mark for a request body
# waiting for its handler: a connection holds at most two reads before it is paused.
READ_BYTES = 64 * 1024

# What `uvicorn.run(http=...)` takes (its annotation names `asyncio.Protocol` classes, this is not one).
HTTP_PROTOCOL = "photochanger.core.http_reads:SharedBufferHttpProtocol"

_buffers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, memoryview]" = weakref.WeakKeyDictionary()


def _loop_buffer(loop: asyncio.AbstractEventLoop) -> memoryview:
    buffer = _buffers.get(loop)
    if buffer is None:
        buffer = _buffers[loop] = memoryview(bytearray(READ_BYTES))
    return buffer


class SharedBufferHttpProtocol(asyncio.BufferedProtocol):
    """uvicorn's `HttpToolsProtocol`, fed through `get_buffer`/`buffer_updated`: each read lands in the loop's
    buffer and is parsed before the next read can overwrite it (the parser copies what it keeps). A wrapper,
    not a subclass: uvloop reads into a buffer only for a protocol that is not an `asyncio.Protocol`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.http = HttpToolsProtocol(*args, **kwargs)
        self._read_buffer = _loop_buffer(self.http.loop)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.http.connection_made(transport)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self.http.connection_lost(exc)

    def eof_received(self) -> None:
        self.http.eof_received()

    def pause_writing(self) -> None:
        self.http.pause_writing()

    def resume_writing(self) -> None:
        self.http.resume_writing()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.http.data_received(self._read_buffer[:nbytes])  # type: ignore[arg-type]
