"""The keys each provider call may use, per process: decrypted from the database, refreshed when the table
changes (checked at most every `refresh_seconds`, so every worker sees an admin's change within that), taken
in turn, a rate-limited key resting while the others carry on."""

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from photochanger.accounts import repository
from photochanger.core.crypto import SecretBox, SecretUnreadable
from photochanger.core.logging import register_secret
from photochanger.core.time import utcnow
from photochanger.models import KeyStatus, ProviderKey

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0


@dataclass(frozen=True)
class ProviderLimits:
    """A provider's runtime settings as the ingest pipeline reads them (None: the global default)."""

    concurrency: int | None = None
    default_model: str | None = None
    prices: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AccountKey:
    """One usable key; `secret` never appears in a repr or a log."""

    id: uuid.UUID
    provider: str
    last4: str
    secret: str = field(repr=False)


class KeyStore:
    """Answers "which keys may this call use, in which order" without a database round trip per shot."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        box: SecretBox,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.box = box
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._keys: dict[str, list[AccountKey]] = {}
        self._settings: dict[str, ProviderLimits] = {}
        self._version: tuple[int, datetime | None, int, datetime | None] | None = None
        self._checked_at = -float("inf")
        self._lock = asyncio.Lock()
        self._turn: Counter[str] = Counter()
        self._resting: dict[uuid.UUID, float] = {}

    def invalidate(self) -> None:
        """This process changed the table: the next call reloads."""
        self._checked_at = -float("inf")

    async def refresh(self) -> None:
        """Reload keys and provider settings when the tables changed (checked at most every few seconds)."""
        if self._clock() - self._checked_at < self._refresh_seconds:
            return
        async with self._lock:
            if self._clock() - self._checked_at < self._refresh_seconds:
                return
            try:
                async with self._sessionmaker() as session:
                    version = await repository.version(session)
                    if version != self._version:
                        rows = await repository.list_keys(session)
                        self._keys = self._decrypt(rows)
                        self._settings = {
                            row.provider: ProviderLimits(
                                row.concurrency,
                                row.default_model,
                                {str(k): float(v) for k, v in (row.prices or {}).items()},
                            )
                            for row in await repository.list_settings(session)
                        }
                        self._version = version
            except Exception:
                # Keep serving with the keys we know; the next call tries again.
                logger.warning("could not refresh provider keys", exc_info=True)
            self._checked_at = self._clock()

    def _decrypt(self, rows: Sequence[ProviderKey]) -> dict[str, list[AccountKey]]:
        keys: dict[str, list[AccountKey]] = {}
        for row in rows:
            if row.status != KeyStatus.ok:
                continue
            try:
                secret = self.box.decrypt(row.ciphertext, context=str(row.id))
            except SecretUnreadable:
                logger.error(
                    "provider key unreadable with this PHOTOCHANGER_SECRET_KEY",
                    extra={"provider": row.provider, "key_id": str(row.id)},
                )
                continue
            register_secret(secret)
            keys.setdefault(row.provider, []).append(AccountKey(row.id, row.provider, row.last4, secret))
        return keys

    def limits(self, provider: str) -> ProviderLimits:
        """The provider's settings as last loaded (call `refresh` first for fresh ones)."""
        return self._settings.get(provider) or ProviderLimits()

    async def keyed_providers(self) -> set[str]:
        """Providers with at least one working admin key."""
        await self.refresh()
        return {provider for provider, keys in self._keys.items() if keys}

    async def first_key(self, provider: str) -> str | None:
        """The secret of the provider's first working admin key (for a connection check), if any."""
        await self.refresh()
        keys = self._keys.get(provider)
        return keys[0].secret if keys else None

    async def has_keys(self, provider: str) -> bool:
        """True when the admin set at least one working key for `provider` (they win over the environment)."""
        await self.refresh()
        return bool(self._keys.get(provider))

    async def candidates(self, provider: str) -> tuple[list[AccountKey], float | None]:
        """The provider's usable keys, the next in turn first, resting ones left out; and, when every key
        is resting, the seconds until the first wakes."""
        await self.refresh()
        keys = self._keys.get(provider, [])
        if not keys:
            return [], None
        start = self._turn[provider] % len(keys)
        self._turn[provider] += 1
        ordered = keys[start:] + keys[:start]
        now = self._clock()
        awake = [k for k in ordered if self._resting.get(k.id, 0.0) <= now]
        if awake:
            return awake, None
        return [], min(self._resting[k.id] for k in ordered) - now

    def rest(self, key: AccountKey, seconds: float) -> None:
        """Leave `key` out for `seconds` (its `Retry-After`, or a backoff) in this process."""
        self._resting[key.id] = self._clock() + seconds
        logger.info(
            "provider key resting",
            extra={"provider": key.provider, "key_last4": key.last4, "rest_s": round(seconds, 1)},
        )

    def resting_until(self, key_id: uuid.UUID) -> float | None:
        until = self._resting.get(key_id)
        return until if until is not None and until > self._clock() else None

    async def mark_broken(self, key: AccountKey, detail: str) -> None:
        """The provider refused the key itself: every worker stops using it until an admin acts."""
        logger.warning("provider key refused", extra={"provider": key.provider, "key_last4": key.last4})
        try:
            async with self._sessionmaker() as session, session.begin():
                await session.execute(
                    update(ProviderKey)
                    .where(ProviderKey.id == key.id)
                    .values(status=KeyStatus.broken, status_detail=detail[:500], updated_at=utcnow())
                )
        except Exception:
            logger.warning("could not mark a provider key broken", exc_info=True)
        # Out of this process's rotation at once, whether or not the row could be written.
        self._keys[key.provider] = [k for k in self._keys.get(key.provider, []) if k.id != key.id]
        self.invalidate()
