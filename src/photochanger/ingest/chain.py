"""A slot's processing chain: the primary provider configuration, then its fallbacks, all inside the job's
one absolute deadline. The first image wins. With hedging, the next link starts when the current one has
not answered after `hedge_after` seconds, and whichever answers first wins while the other is cancelled.
Every link's fate is recorded: which produced the result and why the others did not."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ValidationError

from photochanger.accounts.rotation import KeyedFailure, KeyedResult
from photochanger.providers.base import (
    Deadline,
    Provider,
    ProviderError,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
)
from photochanger.providers.registry import ProviderRegistry, UnknownOperation, UnknownProvider
from photochanger.slots.schemas import ChainLink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    """One configuration of the chain; `index` 0 is the primary."""

    index: int
    provider: Provider
    operation: str
    options: BaseModel


@dataclass
class Attempt:
    """What became of one link: `done`, `failed`, `cancelled` (another link answered first) or
    `not_started` (the deadline or an earlier answer came first)."""

    link: int
    provider: str
    operation: str
    outcome: str = "not_started"
    reason: str | None = None
    detail: str | None = None
    ms: int | None = None
    key_last4: str | None = None
    # For usage counts: the admin key used ("env" for the environment's), the model, and the keys tried
    # before it in this link with why each did not answer.
    key_id: str | None = None
    model: str | None = None
    skipped_keys: list[tuple[str, str]] | None = None

    def as_json(self) -> dict[str, Any]:
        hidden = ("key_id", "skipped_keys")
        return {k: v for k, v in self.__dict__.items() if v is not None and k not in hidden}


@dataclass(frozen=True)
class ChainResult:
    result: ProviderResult
    link: Link
    attempts: list[Attempt]


class ChainFailed(Exception):
    """No link produced an image; `error` is the most telling failure (the last one)."""

    def __init__(self, error: ProviderError, attempts: list[Attempt]) -> None:
        super().__init__(error.message)
        self.error = error
        self.attempts = attempts


LinkCall = Callable[[Link, ProviderRequest], Coroutine[Any, Any, KeyedResult]]


async def run_chain(
    links: Sequence[Link],
    request: ProviderRequest,
    deadline: Deadline,
    call: LinkCall,
    *,
    hedge_after: float | None = None,
) -> ChainResult:
    """Run the chain: each link gets what is left of `deadline`; a failed link hands over to the next at
    once; with `hedge_after`, a slow link is joined by the next one. Raises `ChainFailed`."""
    attempts = [
        Attempt(link.index, link.provider.id, link.operation, model=getattr(link.options, "model", None))
        for link in links
    ]
    running: dict[asyncio.Task[KeyedResult], Link] = {}
    started: dict[int, float] = {}
    last_error: ProviderError | None = None
    next_link = 0

    def start() -> None:
        nonlocal next_link
        link = links[next_link]
        next_link += 1
        # A link with a successor does not wait out a rate limit: the successor answers instead.
        link_request = replace(
            request,
            options=link.options,
            rate_limit_elsewhere=request.rate_limit_elsewhere or next_link < len(links),
        )
        started[link.index] = time.monotonic()
        attempts[link.index].outcome = "running"
        running[asyncio.create_task(call(link, link_request))] = link

    def elapsed(link: Link) -> int:
        return int((time.monotonic() - started[link.index]) * 1000)

    try:
        while True:
            if not running:
                if next_link >= len(links) or (last_error is not None and deadline.expired):
                    break
                start()
            wait: float | None = deadline.remaining()
            if hedge_after is not None and next_link < len(links):
                wait = min(hedge_after, wait) if wait is not None else hedge_after
            done, _ = await asyncio.wait(running, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                if deadline.expired:
                    break
                if next_link < len(links):
                    start()  # hedge: the current link is slow, the next one joins it
                continue
            for task in done:
                link = running.pop(task)
                attempt = attempts[link.index]
                attempt.ms = elapsed(link)
                error = task.exception()
                if error is None:
                    keyed = task.result()
                    attempt.outcome = "done"
                    attempt.key_last4 = keyed.key.last4 if keyed.key is not None else None
                    attempt.key_id = str(keyed.key.id) if keyed.key is not None else "env"
                    attempt.skipped_keys = list(keyed.skipped)
                    for other in running.values():
                        attempts[other.index].outcome = "cancelled"
                        attempts[other.index].reason = "another_link_answered"
                        attempts[other.index].ms = elapsed(other)
                    return ChainResult(keyed.result, link, attempts)
                failure = error.error if isinstance(error, KeyedFailure) else error
                if not isinstance(failure, ProviderError):
                    raise failure
                attempt.outcome = "failed"
                attempt.reason = failure.reason
                attempt.detail = failure.message[:300]
                if isinstance(error, KeyedFailure) and not error.called:
                    attempt.outcome = "skipped"
                elif isinstance(error, KeyedFailure):
                    attempt.key_last4 = error.key.last4 if error.key is not None else None
                    attempt.key_id = str(error.key.id) if error.key is not None else "env"
                    attempt.skipped_keys = list(error.skipped)
                last_error = failure
    finally:
        for task, link in running.items():
            task.cancel()
            if attempts[link.index].outcome == "running":
                attempts[link.index].outcome = "cancelled"
                attempts[link.index].reason = "deadline"
                attempts[link.index].ms = elapsed(link)
        for task in list(running):
            with contextlib.suppress(BaseException):
                await task
    for attempt in attempts:
        if attempt.outcome == "not_started":
            attempt.reason = "deadline"
    raise ChainFailed(
        last_error or ProviderTimeout("the deadline passed before any provider answered"), attempts
    )


def resolve_fallbacks(
    registry: ProviderRegistry, fallbacks: Sequence[ChainLink], usable: Callable[[Provider], bool]
) -> list[Link]:
    """The slot's fallbacks as links (indices from 1). A link whose provider or operation no longer exists,
    whose parameters no longer fit, or whose provider has no key, is left out (and logged): the chain
    carries on without it."""
    links: list[Link] = []
    for index, fallback in enumerate(fallbacks, start=1):
        try:
            provider = registry.get(fallback.provider)
            operation = registry.operation(fallback.provider, fallback.operation)
            options = operation.options_model.model_validate(fallback.params)
        except (UnknownProvider, UnknownOperation, ValidationError):
            logger.warning("fallback link left out: its configuration no longer fits", extra={"link": index})
            continue
        if not usable(provider):
            logger.warning("fallback link left out: provider not configured", extra={"link": index})
            continue
        links.append(Link(index, provider, operation.id, options))
    return links
