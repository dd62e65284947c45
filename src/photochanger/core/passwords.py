"""argon2id hashing, always off the event loop through a bounded thread limiter.

The cost parameters are process configuration (`PHOTOCHANGER_PASSWORD_HASH_*`); the defaults are OWASP's.
Hashes carry their own parameters, so a hash made under one profile still verifies under another and
`needs_rehash` reports it for an upgrade at the next successful login.
"""

from dataclasses import dataclass

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


@dataclass(frozen=True)
class HashProfile:
    """argon2id cost: iterations, memory in KiB, lanes."""

    time_cost: int = 2
    memory_kib: int = 19456
    parallelism: int = 1


# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
PRODUCTION_PROFILE = HashProfile()


def _make_hasher(profile: HashProfile) -> PasswordHasher:
    return PasswordHasher(
        time_cost=profile.time_cost,
        memory_cost=profile.memory_kib,
        parallelism=profile.parallelism,
        hash_len=32,
        salt_len=16,
    )


_profile = PRODUCTION_PROFILE
_hasher = _make_hasher(_profile)
# argon2 costs ~20 MiB and tens of ms per call; bound how many run at once so a burst cannot eat the machine.
_limiter = anyio.CapacityLimiter(4)


def configure(profile: HashProfile) -> None:
    """Use `profile` for new hashes from now on (called by the composition root and the CLI)."""
    global _profile, _hasher
    if profile != _profile:
        _profile = profile
        _hasher = _make_hasher(profile)


def current_profile() -> HashProfile:
    return _profile


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


def verify_password_sync(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password_sync, password, limiter=_limiter)


async def verify_password(
    password_hash: str, password: str, *, limiter: anyio.CapacityLimiter | None = None
) -> bool:
    """True when `password` matches; never raises for a malformed hash. `limiter` runs it in a pool other
    than the admin accounts' (the booth password has its own, so booth traffic cannot starve logins)."""
    return await anyio.to_thread.run_sync(
        verify_password_sync, password_hash, password, limiter=limiter or _limiter
    )


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
