"""The wire shapes the remote drivers share: JSON request bodies with base64 image parts, data URLs, JSON
error bodies and how an upstream's HTTP status maps onto the error taxonomy, and the answer of a
"check connection" request. Pure functions of requests and responses; the sending is `remote`'s.
"""

import base64
import binascii
import email.utils
import json
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

import httpx

from photochanger.providers.base import (
    ConnectionCheck,
    ProviderError,
    ProviderFailed,
    ProviderUnavailable,
)

# --- answers: error bodies and statuses ----------------------------------------------------------------


TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class Transient(Exception):
    """Raised by a response handler: `error` may be retried while the deadline allows."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (delta seconds or HTTP date) or `retry-after-ms`, if present."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def should_retry(response: httpx.Response) -> bool | None:
    """The upstream's own verdict from `x-should-retry` (sent by OpenAI; read by its SDK's retry logic,
    openai/openai-python `src/openai/_base_client.py` `_should_retry`), or None when it gave none."""
    value = response.headers.get("x-should-retry", "").strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def json_body(response: httpx.Response, provider: str) -> Any:
    """The response's JSON, or `ProviderFailed` (a malformed answer is not retried)."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProviderFailed(
            f"{provider} answered {response.status_code} with a body that is not JSON",
            upstream_status=response.status_code,
        ) from exc


def response_json(response: httpx.Response) -> Any:
    """The response's JSON, or None when it has none (an error page, an empty body)."""
    try:
        return response.json()
    except ValueError:
        return None


def error_object(body: Any) -> Mapping[str, Any]:
    """The `error` object of a JSON error body (`{"error": {"message": ...}}`, the shape Google, OpenAI and
    OpenRouter answer with), or an empty mapping."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def upstream_failure(
    status: int,
    message: str,
    *,
    retry_after: float | None = None,
    transient: Collection[int] = TRANSIENT_STATUSES,
    retry: bool | None = None,
    otherwise: type[ProviderFailed] = ProviderFailed,
    key_rejected: bool = False,
    code: int | None = None,
) -> ProviderError | Transient:
    """The taxonomy's error for an upstream failure `status` (HTTP), classified by `code` when the upstream
    reports its own (OpenRouter's error objects), else by `status`.

    A `transient` one is `ProviderUnavailable`, retried (wrapped in `Transient`) unless the upstream said not
    to (`retry` False, OpenAI's `x-should-retry`); `retry` True makes any other status the same. The rest is
    `otherwise` (`ProviderFailed`; `ProviderMisconfigured` for upstreams whose 4xx name an admin's mistake),
    with `key_rejected` when the upstream said the key itself is bad.
    """
    if (code if code is not None else status) in transient or retry is True:
        unavailable = ProviderUnavailable(message, retry_after=retry_after, upstream_status=status)
        return unavailable if retry is False else Transient(unavailable)
    return otherwise(message, upstream_status=status, key_rejected=key_rejected)


def status_failure(
    response: httpx.Response, provider: str, message: str | None = None
) -> ProviderError | Transient:
    """The generic mapping of a non-2xx status: transient statuses retried, everything else `ProviderFailed`."""
    status = response.status_code
    detail = message or f"{provider} answered HTTP {status}"
    return upstream_failure(status, detail, retry_after=parse_retry_after(response.headers))


# Google's finish reasons for content it will not make (the Gemini API, and OpenRouter's
# `native_finish_reason` when it routed to a Google model).
GOOGLE_REFUSED_FINISH = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_RECITATION",
    }
)


# --- "check connection" --------------------------------------------------------------------------------


def answered(provider: str, status: int, message: object = None) -> str:
    """`"<provider> answered <status>: <message>"`, the message cut to 300 characters (none when empty)."""
    return (
        f"{provider} answered {status}: {str(message)[:300]}" if message else f"{provider} answered {status}"
    )


def connection_answer(
    response: httpx.Response,
    detail: Callable[[Any, int], str],
    *,
    ok: Callable[[Any], bool] = lambda body: True,
) -> ConnectionCheck:
    """A "check connection" answer: ok on a 200 whose JSON body passes `ok`, else not ok with
    `detail(body, status)` (the provider's own text)."""
    body = response_json(response)
    if response.status_code == 200 and ok(body):
        return ConnectionCheck(True, "ok", 200)
    return ConnectionCheck(False, detail(body, response.status_code), response.status_code)


# --- requests: image parts -----------------------------------------------------------------------------


def decode_data_url(url: str, provider: str) -> tuple[bytes, str]:
    """The bytes and MIME type of a base64 `data:` URL, or `ProviderFailed`."""
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:") or not header.endswith(";base64"):
        raise ProviderFailed(f"{provider} answered an image URL that is not a base64 data URL")
    return decode_base64(payload, provider), header[5:].removesuffix(";base64")


def decode_base64(payload: str, provider: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderFailed(f"{provider} answered an image that is not valid base64") from exc


@dataclass(frozen=True)
class Blob:
    """Bytes inside a `StreamedJson` document, sent as a base64 string (after `prefix`, e.g. a data URL's
    `data:image/jpeg;base64,`)."""

    data: bytes
    prefix: str = ""


# Payload bytes per base64 chunk: a multiple of 3, so no chunk but the last carries padding.
_BLOB_CHUNK = 3 * 64 * 1024


class StreamedJson:
    """A JSON request body whose `Blob` values are base64-encoded chunk by chunk while it is sent.

    An upload's image never exists as a base64 string, a JSON string and its UTF-8 bytes at once (three
    copies, a third larger each, held for the whole upstream call): what stays in memory is the image
    bytes the caller already has, plus one chunk. `headers` carry the exact `Content-Length`, so the body
    is not chunk-encoded; it can be iterated again for a retry.
    """

    def __init__(self, document: Any) -> None:
        token = secrets.token_hex(12)
        blobs: list[Blob] = []

        def placeholder(value: object) -> str:
            if not isinstance(value, Blob):
                raise TypeError(f"{type(value).__name__} is not JSON serializable")
            blobs.append(value)
            return f"{value.prefix}{token}.{len(blobs) - 1}"

        text = json.dumps(document, default=placeholder)
        pieces = re.split(rf"{token}\.(\d+)", text)
        self._texts = [piece.encode() for piece in pieces[0::2]]
        self._blobs = [blobs[int(index)].data for index in pieces[1::2]]
        length = sum(map(len, self._texts)) + sum(4 * math.ceil(len(data) / 3) for data in self._blobs)
        self.headers = {"Content-Type": "application/json", "Content-Length": str(length)}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for text, data in zip_longest(self._texts, self._blobs):
            if text:
                yield text
            if data is not None:
                view = memoryview(data)
                for start in range(0, len(view), _BLOB_CHUNK):
                    yield base64.b64encode(view[start : start + _BLOB_CHUNK])
