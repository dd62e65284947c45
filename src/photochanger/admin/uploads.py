"""Multipart forms with a file (test runs, template uploads): the form is read into a capped temp file so its
CSRF field can be checked first; the service then takes the upload as read."""

import secrets
from pathlib import Path

import anyio
from fastapi import Request

from photochanger.admin.rendering import CSRF_FIELD, check_csrf_field
from photochanger.core.forms import read_form
from photochanger.core.multipart import ParsedUpload
from photochanger.core.storage import unlink_quietly
from photochanger.deps import get_ingest

MIB = 1024 * 1024
FILE_FIELD = "file"


async def read_form_upload(request: Request, *, cap_mb: int, purpose: str) -> ParsedUpload:
    """The form's file in a temp file (the caller removes `path`) and its text fields, CSRF checked.

    Raises `PayloadTooLarge`, `InvalidRequest` or `CsrfFailed` (the temp file is gone then)."""
    ingest = get_ingest(request)
    temp = ingest.layout.upload_path(ingest.owner, f"admin-{purpose}-{secrets.token_urlsafe(12)}")
    parsed = await read_form(request, dest=temp, cap_mb=cap_mb, file_field=FILE_FIELD)
    try:
        check_csrf_field(request, parsed.fields.get(CSRF_FIELD))
    except BaseException:
        await discard(parsed.path)
        raise
    return parsed


async def discard(path: Path) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(unlink_quietly, path)
