"""One provider call with the provider's keys taken in turn: a key answering rate or quota limits rests and
the next one is tried at once; a key the provider refuses is marked broken and the next one tried."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from photochanger.accounts.store import AccountKey, KeyStore
from photochanger.providers.base import (
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
)

# A rate limit without Retry-After rests the key this long; a quota no retry can cure, this long.
RATE_LIMIT_REST_SECONDS = 30.0
QUOTA_REST_SECONDS = 3600.0


@dataclass(frozen=True)
class KeyedResult:
    result: ProviderResult
    # The admin key that produced it; None for the driver's own (environment) key.
    key: AccountKey | None
    # Keys tried before it and why each did not answer: (key id, failure reason).
    skipped: tuple[tuple[str, str], ...] = ()


class KeyedFailure(Exception):
    """Every key failed; `error` is the last one's, `key` the last key tried, `skipped` the earlier ones."""

    def __init__(
        self,
        error: ProviderError,
        key: AccountKey | None,
        skipped: tuple[tuple[str, str], ...],
        *,
        called: bool = True,
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.key = key
        self.skipped = skipped
        # False when no call was made at all (every key resting).
        self.called = called


def _rest_for(exc: ProviderError) -> float | None:
    """How long a key rests after `exc`, or None when the failure is not the key's."""
    if isinstance(exc, ProviderQuotaExhausted):
        return QUOTA_REST_SECONDS
    if isinstance(exc, ProviderUnavailable) and exc.upstream_status == 429:
        return exc.retry_after if exc.retry_after is not None else RATE_LIMIT_REST_SECONDS
    return None


async def call_with_keys(
    store: KeyStore,
    provider: str,
    request: ProviderRequest,
    call: Callable[[ProviderRequest], Awaitable[ProviderResult]],
) -> KeyedResult:
    """Run `call` with the provider's admin keys in turn (or, without any, the driver's own key) until one
    answers or the request's deadline passes. Raises `KeyedFailure`."""
    keys, wake_in = await store.candidates(provider)
    if not keys and wake_in is None:
        try:
            return KeyedResult(await call(request), None)
        except ProviderError as exc:
            raise KeyedFailure(exc, None, ()) from exc
    if not keys:
        resting = ProviderUnavailable(
            f"every {provider} key is resting after rate or quota limits", retry_after=wake_in
        )
        raise KeyedFailure(resting, None, (), called=False)
    skipped: list[tuple[str, str]] = []
    last: tuple[ProviderError, AccountKey] | None = None
    for index, key in enumerate(keys):
        if last is not None and request.deadline.expired:
            break
        elsewhere = request.rate_limit_elsewhere or index < len(keys) - 1
        try:
            result = await call(replace(request, api_key=key.secret, rate_limit_elsewhere=elsewhere))
        except ProviderError as exc:
            if isinstance(exc, ProviderTimeout):
                raise KeyedFailure(exc, key, tuple(skipped)) from exc
            rest = _rest_for(exc)
            if rest is not None:
                store.rest(key, rest)
            elif exc.key_rejected:
                await store.mark_broken(key, exc.message)
            else:
                raise KeyedFailure(exc, key, tuple(skipped)) from exc
            skipped.append((str(key.id), exc.reason))
            last = (exc, key)
            continue
        return KeyedResult(result, key, tuple(skipped))
    if last is None:  # pragma: no cover - `keys` is not empty, so the loop ran
        raise KeyedFailure(ProviderTimeout("the deadline passed"), None, ())
    raise KeyedFailure(last[0], last[1], tuple(skipped[:-1]))
