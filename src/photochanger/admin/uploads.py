"""Multipart forms with a file (test runs, template uploads): the form is read into a capped temp file so its
CSRF field can be checked first, then the photo is replayed to the service as its own upload."""

import re
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import anyio
from fastapi import Request

from photochanger.admin.rendering import CSRF_FIELD, check_csrf_field
from photochanger.core.multipart import ParsedUpload, read_upload
from photochanger.core.storage import unlink_quietly
from photochanger.core.uploads import PayloadTooLarge
from photochanger.ingest.service import IngestService

MIB = 1024 * 1024
MULTIPART_OVERHEAD_BYTES = 256 * 1024
FILE_FIELD = "file"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
_MIME = re.compile(r"[A-Za-z0-9.+-]+/[A-Za-z0-9.+-]+")


async def read_form_upload(request: Request, *, cap_mb: int, purpose: str) -> ParsedUpload:
    """The form's file in a temp file (the caller removes `path`) and its text fields, CSRF checked.

    Raises `PayloadTooLarge`, `InvalidRequest` or `CsrfFailed` (the temp file is gone then)."""
    cap = cap_mb * MIB
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > cap + MULTIPART_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"The upload is larger than {cap_mb} MiB.")
    ingest: IngestService = request.app.state.ingest
    temp = ingest.layout.upload_path(ingest.owner, f"admin-{purpose}-{secrets.token_urlsafe(12)}")
    parsed = await read_upload(
        request.stream(),
        content_type=request.headers.get("content-type"),
        dest=temp,
        max_bytes=cap,
        file_field=FILE_FIELD,
    )
    try:
        check_csrf_field(request, parsed.fields.get(CSRF_FIELD))
    except BaseException:
        await discard(parsed.path)
        raise
    return parsed


async def discard(path: Path) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(unlink_quietly, path)


class Replay:
    """A multipart body holding `fields` and the uploaded file, streamed from disk."""

    def __init__(self, parsed: ParsedUpload, fields: Mapping[str, str] | None = None) -> None:
        self.path = parsed.path
        self.boundary = secrets.token_hex(16)
        filename = _UNSAFE_FILENAME.sub("_", parsed.filename or "photo")[:100] or "photo"
        declared = parsed.declared_type or ""
        if not _MIME.fullmatch(declared):
            declared = "application/octet-stream"
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{" ".join(value.split())}\r\n'
            for name, value in (fields or {}).items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{FILE_FIELD}"; '
            f'filename="{filename}"\r\nContent-Type: {declared}\r\n\r\n'
        )
        self.head = head.encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.content_length = len(self.head) + parsed.size + len(self.tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    async def body(self) -> AsyncIterator[bytes]:
        yield self.head
        async with await anyio.open_file(self.path, "rb") as handle:
            while chunk := await handle.read(MIB):
                yield chunk
        yield self.tail
