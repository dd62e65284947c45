"""HTTP plumbing the remote drivers share: deadline-bound attempts, retries, `Retry-After`, data URLs.

Every attempt's timeout comes from the job's `Deadline`; a retry is only started when the wait plus a
minimal attempt still fit before it. Logs carry status codes, sizes and timings, never keys or payloads.
"""

import asyncio
import base64
import binascii
import email.utils
import json
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from photochanger.providers.base import (
    ConnectionCheck,
    Deadline,
    FieldProblem,
    Operation,
    ProviderError,
    ProviderFailed,
    ProviderRequest,
    ProviderTimeout,
    ProviderUnavailable,
    SlotCheck,
)

logger = logging.getLogger("photochanger.providers")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Below this many seconds left, a timed-out attempt is the deadline passing, not a slow connect.
_DEADLINE_SLACK = 0.05


class Transient(Exception):
    """Raised by a response handler: `error` may be retried while the deadline allows."""

    def __init__(self, error: ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: at most `max_attempts`, waiting `Retry-After` when the upstream
    said, else `backoff` seconds doubled per attempt up to `max_backoff`; an attempt is only started when at
    least `min_attempt` seconds remain after the wait."""

    max_attempts: int = 3
    backoff: float = 1.0
    max_backoff: float = 8.0
    min_attempt: float = 2.0
    # False when the caller has another key or provider to turn to: a 429 is answered at once.
    wait_out_rate_limits: bool = True


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


def status_failure(
    response: httpx.Response, provider: str, message: str | None = None
) -> ProviderError | Transient:
    """The generic mapping of a non-2xx status: transient statuses retried, everything else configuration."""
    status = response.status_code
    detail = message or f"{provider} answered HTTP {status}"
    retry_after = parse_retry_after(response.headers)
    if status in TRANSIENT_STATUSES:
        return Transient(ProviderUnavailable(detail, retry_after=retry_after, upstream_status=status))
    return ProviderFailed(detail, upstream_status=status)


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


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


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


async def call(
    provider: str,
    deadline: Deadline,
    policy: RetryPolicy,
    send: Callable[[httpx.Timeout], Awaitable[httpx.Response]],
    handle: Callable[[httpx.Response], T],
) -> T:
    """Send with deadline-derived timeouts and hand each response to `handle`, retrying `Transient` ones.

    Raises `ProviderTimeout` once the deadline passes; otherwise the last failure (`ProviderUnavailable`
    with its `retry_after` for transient ones) when the attempts or the remaining time run out.
    """
    attempt = 0
    while True:
        attempt += 1
        if deadline.expired:
            raise ProviderTimeout(f"the deadline passed before {provider} answered")
        started = time.monotonic()
        try:
            async with asyncio.timeout(deadline.remaining()):
                response = await send(deadline.http_timeout())
        except (TimeoutError, httpx.TimeoutException) as exc:
            if deadline.remaining() <= _DEADLINE_SLACK:
                raise ProviderTimeout(f"the deadline passed before {provider} answered") from exc
            failure: ProviderError = ProviderUnavailable(f"{provider} did not accept the connection in time")
        except httpx.TransportError as exc:
            failure = ProviderUnavailable(f"could not reach {provider}: {type(exc).__name__}")
        else:
            logger.info(
                "provider answered",
                extra={
                    "provider": provider,
                    "attempt": attempt,
                    "status": response.status_code,
                    "bytes": len(response.content),
                    "elapsed_ms": round((time.monotonic() - started) * 1000),
                },
            )
            try:
                return handle(response)
            except Transient as transient:
                failure = transient.error
        if failure.upstream_status == 429 and not policy.wait_out_rate_limits:
            raise failure
        wait = failure.retry_after
        if wait is None:
            wait = min(policy.backoff * 2 ** (attempt - 1), policy.max_backoff)
        if attempt >= policy.max_attempts or deadline.remaining() < wait + policy.min_attempt:
            raise failure
        logger.info(
            "provider retry",
            extra={"provider": provider, "attempt": attempt, "reason": failure.reason, "wait_s": wait},
        )
        await asyncio.sleep(wait)


async def fetch_image(
    http: httpx.AsyncClient, url: str, deadline: Deadline, policy: RetryPolicy, provider: str
) -> bytes:
    """GET a result image an upstream published at `url`, within the deadline."""

    async def send(budget: httpx.Timeout) -> httpx.Response:
        return await http.get(url, timeout=budget, follow_redirects=True)

    def handle(response: httpx.Response) -> bytes:
        if response.status_code != 200:
            failure = status_failure(
                response, provider, f"{provider} result download answered {response.status_code}"
            )
            raise failure
        return response.content

    return await call(provider, deadline, policy, send, handle)


async def probe(
    http: httpx.AsyncClient,
    provider: str,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    deadline: Deadline,
    answer: Callable[[httpx.Response], ConnectionCheck],
    data: Mapping[str, str] | None = None,
) -> ConnectionCheck:
    """One "check connection" request: `answer` reads the response; transport failures become a
    not-ok check naming what went wrong (never the key)."""
    try:
        response = await http.request(
            method, url, headers=dict(headers), data=data, timeout=deadline.http_timeout()
        )
    except httpx.TimeoutException:
        return ConnectionCheck(False, f"{provider} did not answer in time")
    except httpx.TransportError as exc:
        return ConnectionCheck(False, f"could not reach {provider}: {type(exc).__name__}")
    return answer(response)


def checked_options(
    provider: str,
    operations: Mapping[str, Operation],
    operation: str,
    request: ProviderRequest,
    api_key: str | None,
) -> BaseModel:
    """The request's options after checking the operation exists, the key is set and the model matches."""
    if operation not in operations:
        raise ProviderFailed(f"{provider} has no operation {operation!r}")
    if not api_key:
        raise ProviderFailed(f"{provider} is not configured: its API key is not set")
    options_model = operations[operation].options_model
    if isinstance(request.options, options_model):
        return request.options
    try:
        return options_model.model_validate(request.options.model_dump())
    except ValidationError as exc:
        raise ProviderFailed(f"the options do not fit {provider}.{operation}") from exc


def expect_options(options: BaseModel, model: type[M]) -> M:
    if not isinstance(options, model):
        raise ProviderFailed(f"expected {model.__name__} options")
    return options


class RemoteProvider:
    """Plumbing every HTTP driver shares: the process-wide client, the API key, the configurable base URL
    and the retry policy. Subclasses set `id`, `title`, `default_base_url` and `operations`."""

    id: str
    title: str
    default_base_url: str
    operations: Mapping[str, Operation]

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str | None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._base_url = (base_url or self.default_base_url).rstrip("/")
        self._retry = retry or RetryPolicy()

    @property
    def configured(self) -> bool:
        """Usable once its API key is set."""
        return bool(self._api_key)

    def retry_for(self, request: ProviderRequest) -> RetryPolicy:
        """The retry policy for `request`: rate limits are not waited out when the caller can go elsewhere."""
        if request.rate_limit_elsewhere:
            return replace(self._retry, wait_out_rate_limits=False)
        return self._retry

    def key_for(self, request: ProviderRequest) -> str | None:
        """The request's account key when the caller chose one, else the driver's own."""
        return request.api_key or self._api_key

    def check_slot(self, operation: str, check: SlotCheck) -> list[FieldProblem]:
        """No provider-specific problems unless a driver knows better."""
        return []

    async def check_connection(self, deadline: Deadline, api_key: str | None = None) -> ConnectionCheck:
        raise NotImplementedError
