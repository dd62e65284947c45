"""argon2id hashing with OWASP parameters, always off the event loop through a bounded thread limiter."""

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
# argon2 costs ~20 MiB and tens of ms per call; bound how many run at once so a burst cannot eat the machine.
_limiter = anyio.CapacityLimiter(4)


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


def verify_password_sync(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password_sync, password, limiter=_limiter)


async def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a malformed hash."""
    return await anyio.to_thread.run_sync(verify_password_sync, password_hash, password, limiter=_limiter)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
