"""Multipart forms with one file, as upload routes declare and read them."""

from pathlib import Path
from typing import Any

from starlette.requests import Request

from photochanger.core.multipart import MULTIPART_OVERHEAD_BYTES, ParsedUpload, read_upload
from photochanger.core.uploads import PayloadTooLarge

MIB = 1024 * 1024
# The file part of every upload form.
IMAGE_FILE: dict[str, Any] = {"type": "string", "format": "binary", "description": "JPEG, PNG or WebP"}


def openapi_form(
    properties: dict[str, Any], *, required: list[str], extra_fields: bool = False
) -> dict[str, Any]:
    """The `openapi_extra` of a route reading its multipart body itself (FastAPI cannot see the form)."""
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if extra_fields:
        schema["additionalProperties"] = {"type": "string"}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


async def read_form(request: Request, *, dest: Path, cap_mb: int, file_field: str) -> ParsedUpload:
    """The request's form: its file streamed to `dest` (removed on any failure) under a cap of `cap_mb` MiB,
    and its text fields. A declared length past the cap (plus the framing) is refused before a byte is
    read. Raises `PayloadTooLarge` or `InvalidRequest`."""
    cap = cap_mb * MIB
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > cap + MULTIPART_OVERHEAD_BYTES:
        raise PayloadTooLarge(f"The upload is larger than {cap_mb} MiB.")
    return await read_upload(
        request.stream(),
        content_type=request.headers.get("content-type"),
        dest=dest,
        max_bytes=cap,
        file_field=file_field,
    )
