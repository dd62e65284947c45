"""HTTP plumbing the remote drivers share: deadline-bound attempts, retries, the "check connection" request,
option checks and the `RemoteProvider` base. What requests and answers look like is `wire`'s.

Every attempt's timeout comes from the job's `Deadline`; a retry is only started when the wait plus a
minimal attempt still fit before it. Logs carry status codes, sizes and timings, never keys or payloads.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

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
from photochanger.providers.wire import Transient, answered, connection_answer, error_object, status_failure

logger = logging.getLogger("photochanger.providers")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# Below this many seconds left, a timed-out attempt is the deadline passing, not a slow connect.
_DEADLINE_SLACK = 0.05


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


@dataclass(frozen=True)
class ConnectionProbe:
    """The one cheap authenticated request of "check connection": `path` under the base URL, generating
    nothing (a model's metadata, the key's own info)."""

    method: str
    path: str
    data: Mapping[str, str] | None = None


class RemoteProvider:
    """Plumbing every HTTP driver shares: the process-wide client, the API key, the configurable base URL
    and the retry policy. Subclasses set `id`, `title`, `default_base_url` and `operations`."""

    id: str
    title: str
    default_base_url: str
    operations: Mapping[str, Operation]
    # The name the upstream's answers are quoted under in messages, when it is not `id` ("openai").
    upstream_name: str | None = None

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

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """How the upstream takes the key: a bearer token unless a driver says otherwise."""
        return {"Authorization": f"Bearer {api_key}"}

    def connection_probe(self) -> ConnectionProbe:
        """The request `check_connection` sends; every driver names its own."""
        raise NotImplementedError

    def connection_answer(self, response: httpx.Response) -> ConnectionCheck:
        """Ok on a 200; else the message of the JSON error object, as the upstream wrote it."""
        return connection_answer(
            response,
            lambda body, status: answered(
                self.upstream_name or self.id, status, error_object(body).get("message")
            ),
        )

    async def check_connection(self, deadline: Deadline, api_key: str | None = None) -> ConnectionCheck:
        """The driver's `connection_probe` with `api_key` (else its own), read by `connection_answer`."""
        request = self.connection_probe()
        return await probe(
            self._http,
            self.id,
            request.method,
            f"{self._base_url}{request.path}",
            headers=self.auth_headers(api_key or self._api_key),
            deadline=deadline,
            answer=self.connection_answer,
            data=request.data,
        )
