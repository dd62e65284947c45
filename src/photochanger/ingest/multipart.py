"""Streaming multipart/form-data reader for booth uploads.

The single file part streams to a temp file (hashed with SHA-256 on the way) and reading stops as soon as
the cap is passed; text fields are bounded in number and size. Nothing is buffered whole in memory.
"""

import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from photochanger.ingest.exceptions import InvalidRequest, PayloadTooLarge

MAX_FIELDS = 64
MAX_FIELD_BYTES = 8 * 1024
MAX_PART_HEADERS = 8
# Writes to disk are batched: one thread hop per 256 KiB instead of one per network chunk, and no more than
# that buffered per upload in memory.
FLUSH_BYTES = 256 * 1024


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
    """Collects parser callbacks; the parser is synchronous, so file bytes are queued and flushed by the
    async loop between network chunks."""

    def __init__(self, file_field: str, max_bytes: int) -> None:
        self.file_field = file_field
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.file_seen = False
        self.file_bytes = 0
        self.pending = bytearray()
        self.filename: str | None = None
        self.declared_type: str | None = None
        self.ended = False
        self.part = _Part()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}

    def on_part_begin(self) -> None:
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
        elif len(self.fields) >= MAX_FIELDS:
            raise InvalidRequest(f"Too many form fields (at most {MAX_FIELDS}).")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self.part.is_file:
            self.file_bytes += len(chunk)
            if self.file_bytes > self.max_bytes:
                raise PayloadTooLarge(f"The photo is larger than {self.max_bytes // (1024 * 1024)} MiB.")
            self.pending += chunk
        else:
            self.part.buffer += chunk
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

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    def close(self) -> None:
        os.close(self.fd)


async def read_upload(
    chunks: AsyncIterator[bytes], *, content_type: str | None, dest: Path, max_bytes: int, file_field: str
) -> ParsedUpload:
    """Stream a multipart body into `dest`. On any failure (bad body, cap passed, client gone) the temp file
    is removed before the error propagates. Raises `InvalidRequest` or `PayloadTooLarge`."""
    sink = _UploadSink(file_field, max_bytes)
    parser = MultipartParser(
        boundary_of(content_type),
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
    temp = await anyio.to_thread.run_sync(_TempFile, dest)
    try:
        async for chunk in chunks:
            if not chunk:
                continue
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise InvalidRequest("The multipart body is malformed.") from exc
            if len(sink.pending) >= FLUSH_BYTES:
                data, sink.pending = bytes(sink.pending), bytearray()
                await anyio.to_thread.run_sync(temp.write, data)
            if sink.ended:
                break
        if not sink.ended:
            raise InvalidRequest("The multipart body ended before its closing boundary.")
        if not sink.file_seen:
            raise InvalidRequest(f"No photo: send it in the {file_field!r} file part.")
        if sink.pending:
            data, sink.pending = bytes(sink.pending), bytearray()
            await anyio.to_thread.run_sync(temp.write, data)
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
