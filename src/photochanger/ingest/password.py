"""Ingest password check: wrong guesses throttled per client before any hashing, argon2id in a small pool of
its own (never the one admin logins use), and digests of recent outcomes so a known password costs one HMAC.
"""

import hashlib
import hmac
import math
import secrets
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable

import anyio

from photochanger.core.passwords import verify_password

# A booth that sends a wrong password is misconfigured; it needs a handful of tries, not thousands.
FAILURE_LIMIT = 10
FAILURE_WINDOW_SECONDS = 300.0
# Booths share one password, so argon2 runs only for a password seen neither right nor wrong before: one
# thread is plenty, and a flood of fresh guesses from many addresses can occupy that thread alone.
ARGON2_THREADS = 1
# Fresh guesses waiting for that thread beyond this are refused at once (`busy`) rather than queued.
ARGON2_MAX_WAITING = 8
_MAX_CLIENTS = 10_000
_MAX_WRONG_DIGESTS = 64


class ThrottleRefused(Exception):
    """This client sent too many wrong passwords; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class HashingBusy(Exception):
    """Too many unknown passwords are waiting to be hashed."""


class WrongPasswordThrottle:
    """Per client (`core.clients.client_key`), a sliding window of wrong passwords held in memory: each
    worker keeps its own, and nginx's `limit_req` on `/api/ingest/` bounds the sum across workers."""

    def __init__(
        self,
        *,
        limit: int = FAILURE_LIMIT,
        window_seconds: float = FAILURE_WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._pending: Counter[str] = Counter()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def check(self, client: str) -> None:
        """Raise `ThrottleRefused` while `client` has `limit` wrong passwords inside the window, counting
        its checks still running as wrong ones (so concurrent guesses cannot overshoot the limit)."""
        now = self.clock()
        failures = self._recent(client, now)
        failed = len(failures) if failures is not None else 0
        if failures is not None and failed >= self.limit:
            opens = failures[-self.limit] + self.window
            raise ThrottleRefused(max(1, math.ceil(opens - now)))
        if failed + self._pending[client] >= self.limit:
            raise ThrottleRefused(1)  # the checks in flight decide; they take milliseconds

    def begin(self, client: str) -> None:
        """`check`, then count one more check in flight for `client` until `end`."""
        self.check(client)
        self._pending[client] += 1

    def end(self, client: str, *, failed: bool) -> None:
        self._pending[client] -= 1
        if self._pending[client] <= 0:
            del self._pending[client]
        if failed:
            self.record_failure(client)

    def record_failure(self, client: str) -> None:
        now = self.clock()
        failures = self._recent(client, now) or deque(maxlen=self.limit)
        failures.append(now)
        self._failures[client] = failures
        self._failures.move_to_end(client)
        while len(self._failures) > _MAX_CLIENTS:  # bounded memory: the oldest offender is forgotten
            self._failures.popitem(last=False)


class IngestPasswordVerifier:
    """Checks booth passwords against the current hash.

    The last password that verified and the last few that did not are remembered as keyed digests bound to
    the hash, so the steady state (and a booth left on an old password) costs one HMAC instead of an argon2
    run. Rotating the password changes the hash, which invalidates both at once. No plaintext is kept.
    """

    def __init__(self, throttle: WrongPasswordThrottle | None = None) -> None:
        self._key = secrets.token_bytes(32)
        self._digest: bytes | None = None
        self._wrong: OrderedDict[bytes, None] = OrderedDict()
        self.throttle = throttle or WrongPasswordThrottle()
        self._limiter = anyio.CapacityLimiter(ARGON2_THREADS)
        self._hashing = 0  # running or waiting for `_limiter`

    def _digest_of(self, password_hash: str, password: str) -> bytes:
        # Bound to the hash: after a rotation no remembered outcome matches any more.
        message = password_hash.encode("utf-8") + b"\0" + password.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def check_client(self, client: str) -> None:
        """Before the upload is read: refuse a client that keeps sending wrong passwords (`ThrottleRefused`)."""
        self.throttle.check(client)

    async def verify(self, password_hash: str, password: str, *, client: str | None = None) -> bool:
        """True when `password` matches. A wrong one counts against `client`, and a check that would take
        `client` past its limit (counting its checks in flight) raises `ThrottleRefused`. Raises
        `HashingBusy` when the argon2 queue is full."""
        digest = self._digest_of(password_hash, password)
        if self._digest is not None and hmac.compare_digest(self._digest, digest):
            return True
        if client is not None:
            self.throttle.begin(client)
        failed = False
        try:
            ok = await self._evaluate(password_hash, password, digest)
            failed = not ok
            return ok
        finally:
            if client is not None:
                self.throttle.end(client, failed=failed)

    async def _evaluate(self, password_hash: str, password: str, digest: bytes) -> bool:
        if digest in self._wrong:
            return False
        if self._hashing >= ARGON2_THREADS + ARGON2_MAX_WAITING:
            raise HashingBusy()
        self._hashing += 1
        try:
            ok = await verify_password(password_hash, password, limiter=self._limiter)
        finally:
            self._hashing -= 1
        if ok:
            self._digest = digest
        else:
            self._wrong[digest] = None
            while len(self._wrong) > _MAX_WRONG_DIGESTS:
                self._wrong.popitem(last=False)
        return ok
