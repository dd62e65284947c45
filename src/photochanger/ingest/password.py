"""Ingest password check: argon2id off the event loop, with a cache of successes bound to the current hash."""

import hashlib
import hmac
import secrets

from photochanger.core.passwords import verify_password


class IngestPasswordVerifier:
    """Remembers the last password that verified against a given hash, as a keyed digest.

    Steady state costs one HMAC per upload instead of one argon2 run. Rotating the password changes the
    hash, which invalidates the cache at once. The plaintext is never kept.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._hash: str | None = None
        self._digest: bytes | None = None

    def _digest_of(self, password: str) -> bytes:
        return hmac.new(self._key, password.encode("utf-8"), hashlib.sha256).digest()

    async def verify(self, password_hash: str, password: str) -> bool:
        digest = self._digest_of(password)
        if (
            self._hash is not None
            and self._digest is not None
            and hmac.compare_digest(self._hash, password_hash)
            and hmac.compare_digest(self._digest, digest)
        ):
            return True
        ok = await verify_password(password_hash, password)
        if ok:
            self._hash, self._digest = password_hash, digest
        return ok
