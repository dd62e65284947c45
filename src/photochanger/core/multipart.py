"""Streaming multipart/form-data reader for booth uploads.

The single file part streams to a temp file (hashed with SHA-256 on the way) and reading stops as soon as
the cap is passed; text fields are bounded in number and size. Nothing is buffered whole in memory.

Parsing, hashing and writing run in a worker thread, a batch of network chunks per hop: the event loop only
collects chunk references (no copy, no buffer built per flush), and no body, however many parts it holds,
can hold the loop. Every part counts against `MAX_PARTS` whatever its name, so a body of a million tiny
parts is refused after the 64th.
"""

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from photochanger.core.uploads import InvalidRequest, PayloadTooLarge

# Room for the multipart framing and the text fields on top of the file itself: a declared length past the
# file's cap plus this is refused before a byte is read.
MULTIPART_OVERHEAD_BYTES = 256 * 1024
# Every part, text or file, whatever its name: the booth sends about ten.
MAX_PARTS = 64
MAX_FIELD_BYTES = 8 * 1024
MAX_PART_HEADERS = 8
# Once the file streams, network chunks (64 KiB each from uvicorn) go to the worker thread in batches of
# this size: one thread hop per 256 KiB, and no more than that held per upload.
BATCH_BYTES = 256 * 1024

FieldsHook = Callable[[dict[str, str]], Awaitable[None]]


@dataclass
class ParsedUpload:
    """What the booth sent: the file on disk, its digest and size, and the text fields."""

    path: Path
    filename: str | None
    declared_type: str | None
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str | None = None
    is_file: bool = False
    buffer: bytearray = field(default_factory=bytearray)


class _UploadSink:
    """Collects parser callbacks. File bytes are kept as views into the network chunks they arrived in and
    written out after each `parser.write`, so they are never copied in Python."""

    def __init__(self, file_field: str, max_bytes: int) -> None:
        self.file_field = file_field
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.parts = 0
        self.file_seen = False
        self.file_bytes = 0
        self.views: list[memoryview] = []
        self.filename: str | None = None
        self.declared_type: str | None = None
        self.ended = False
        self.part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise InvalidRequest(f"Too many multipart parts (at most {MAX_PARTS}).")
        self.part = _Part()
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if len(self._headers) >= MAX_PART_HEADERS:
            raise InvalidRequest("A multipart part has too many headers.")
        name = bytes(self._header_field).decode("latin-1").strip().lower()
        self._headers[name] = bytes(self._header_value).decode("latin-1").strip()
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition", ""))
        if disposition != b"form-data" or b"name" not in options:
            raise InvalidRequest("Every multipart part needs a Content-Disposition: form-data name.")
        self.part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            self.part.is_file = True
            self.part.filename = options[b"filename"].decode("utf-8", "replace")
            self.part.content_type = self._headers.get("content-type")
            if self.part.name != self.file_field:
                raise InvalidRequest(
                    f"Unexpected file part {self.part.name!r}; send the photo as {self.file_field!r}."
                )
            if self.file_seen:
                raise InvalidRequest("Send exactly one file per upload.")
            self.file_seen = True
            self.filename = self.part.filename
            self.declared_type = self.part.content_type

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part.is_file:
            self.file_bytes += end - start
            if self.file_bytes > self.max_bytes:
                raise PayloadTooLarge(f"The photo is larger than {self.max_bytes // (1024 * 1024)} MiB.")
            self.views.append(memoryview(data)[start:end])
        else:
            self.part.buffer += data[start:end]
            if len(self.part.buffer) > MAX_FIELD_BYTES:
                raise InvalidRequest(f"Form field {self.part.name!r} is longer than {MAX_FIELD_BYTES} bytes.")

    def on_part_end(self) -> None:
        if not self.part.is_file:
            self.fields[self.part.name] = bytes(self.part.buffer).decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True


def boundary_of(content_type: str | None) -> bytes:
    media_type, options = parse_options_header(content_type or "")
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidRequest("Send the photo as multipart/form-data.")
    return boundary


class _TempFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)

    def write(self, view: memoryview) -> None:
        self.digest.update(view)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def close(self) -> None:
        os.close(self.fd)


class _Reader:
    """The parser, its sink and the temp file; `feed` runs in a worker thread, one batch at a time."""

    def __init__(self, boundary: bytes, sink: _UploadSink, temp: _TempFile) -> None:
        self.sink = sink
        self.temp = temp
        self.parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": sink.on_part_begin,
                "on_part_data": sink.on_part_data,
                "on_part_end": sink.on_part_end,
                "on_header_field": sink.on_header_field,
                "on_header_value": sink.on_header_value,
                "on_header_end": sink.on_header_end,
                "on_headers_finished": sink.on_headers_finished,
                "on_end": sink.on_end,
            },
        )

    def feed(self, chunks: list[bytes]) -> None:
        for chunk in chunks:
            try:
                self.parser.write(chunk)
            except MultipartParseError as exc:
                raise InvalidRequest("The multipart body is malformed.") from exc
            finally:
                self.sink.views, views = [], self.sink.views
            for view in views:
                self.temp.write(view)
            if self.sink.ended:
                return


async def read_upload(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str | None,
    dest: Path,
    max_bytes: int,
    file_field: str,
    on_file_start: FieldsHook | None = None,
) -> ParsedUpload:
    """Stream a multipart body into `dest`. On any failure (bad body, cap passed, client gone, or
    `on_file_start` raising) the temp file is removed before the error propagates.

    `on_file_start` is awaited once, with the text fields sent so far, as soon as the file part begins
    (booths send their fields first): the caller checks the password there before the photo is read.
    Raises `InvalidRequest` or `PayloadTooLarge`."""
    sink = _UploadSink(file_field, max_bytes)
    boundary = boundary_of(content_type)
    temp = await anyio.to_thread.run_sync(_TempFile, dest)
    reader = _Reader(boundary, sink, temp)
    batch: list[bytes] = []
    batched = 0
    hook_pending = on_file_start is not None
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            batch.append(chunk)
            batched += len(chunk)
            # Until the photo streams, every chunk is parsed at once: the fields decide whether it is read.
            if sink.file_seen and not hook_pending and batched < BATCH_BYTES:
                continue
            await anyio.to_thread.run_sync(reader.feed, batch)
            batch, batched = [], 0
            if hook_pending and sink.file_seen and on_file_start is not None:
                hook_pending = False
                await on_file_start(dict(sink.fields))
            if sink.ended:
                break
        if batch and not sink.ended:
            await anyio.to_thread.run_sync(reader.feed, batch)
        if not sink.ended:
            raise InvalidRequest("The multipart body ended before its closing boundary.")
        if not sink.file_seen:
            raise InvalidRequest(f"No photo: send it in the {file_field!r} file part.")
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(temp.close)
            await anyio.to_thread.run_sync(lambda: dest.unlink(missing_ok=True))
        raise
    await anyio.to_thread.run_sync(temp.close)
    return ParsedUpload(
        path=dest,
        filename=sink.filename,
        declared_type=sink.declared_type,
        size=sink.file_bytes,
        sha256=temp.digest.hexdigest(),
        fields=sink.fields,
    )
