"""The ingest floor: a bare ASGI endpoint that reads the same multipart upload, writes the file part to disk
and sends it back. No framework, no database, no image work: what any upload endpoint must at least cost.

Serve with `uvicorn scripts.benchmarks.floor_app:app` (same uvicorn, loop and HTTP parser as the server).
"""

import asyncio
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

FLUSH_BYTES = 1024 * 1024
SPOOL = Path(os.environ.get("FLOOR_SPOOL_DIR", tempfile.gettempdir()))


async def _send(send: Any, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/health/live":
        await _send(send, 200, b'{"status":"ok"}', b"application/json")
        return
    headers = dict(scope["headers"])
    _kind, options = parse_options_header(headers.get(b"content-type", b""))
    pending = bytearray()
    state = {"file": False}

    def on_headers_finished() -> None:
        state["file"] = True  # good enough for a floor: the last part with headers is the file

    def on_part_begin() -> None:
        state["file"] = False

    def on_part_data(data: bytes, start: int, end: int) -> None:
        pending.extend(data[start:end])

    parser = MultipartParser(
        options[b"boundary"],
        callbacks={
            "on_part_begin": on_part_begin,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    path = SPOOL / f"floor-{secrets.token_hex(8)}"
    fd = await asyncio.to_thread(os.open, path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        more = True
        while more:
            message = await receive()
            parser.write(message.get("body", b""))
            more = message.get("more_body", False)
            if len(pending) >= FLUSH_BYTES or not more:
                chunk = bytes(pending)
                pending.clear()
                await asyncio.to_thread(os.write, fd, chunk)
        await asyncio.to_thread(os.close, fd)
        fd = -1
        body = await asyncio.to_thread(path.read_bytes)
    finally:
        if fd >= 0:
            os.close(fd)
        path.unlink(missing_ok=True)
    await _send(send, 200, body, b"image/jpeg")
