"""JWT encoding and strict decoding (HS256, fixed issuer and audience, `typ` separating access/refresh)."""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from photochanger.auth.exceptions import InvalidToken
from photochanger.core.time import ensure_utc
from photochanger.models import User

ALGORITHM = "HS256"
ISSUER = "photochanger"
AUDIENCE = "photochanger:api"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_IDLE_TTL = timedelta(days=7)
REFRESH_ABSOLUTE_TTL = timedelta(days=30)
_REQUIRED = ["sub", "iat", "exp", "jti", "typ", "iss", "aud"]


class TokenType(StrEnum):
    access = "access"
    refresh = "refresh"


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    jti: str
    family_id: str
    version: int
    permissions: tuple[str, ...]


@dataclass(frozen=True)
class RefreshClaims:
    user_id: str
    jti: str
    family_id: str


def new_jti() -> str:
    return secrets.token_hex(16)


def token_digest(token: str) -> str:
    """What the database keeps of a refresh token: its SHA-256 (the token itself has 256 bits of MAC)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenCodec:
    """Signs and verifies tokens with one secret. Every check failure raises `InvalidToken`."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def _encode(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def encode_access(
        self, *, user_id: str, family_id: str, version: int, permissions: Iterable[str], now: datetime
    ) -> tuple[str, str]:
        """A 15-minute access token and its JTI, bound to the refresh family it was issued with."""
        jti = new_jti()
        token = self._encode(
            {
                "sub": user_id,
                "iat": int(now.timestamp()),
                "exp": int((now + ACCESS_TTL).timestamp()),
                "jti": jti,
                "typ": TokenType.access.value,
                "iss": ISSUER,
                "aud": AUDIENCE,
                "fam": family_id,
                "ver": version,
                "permissions": sorted(permissions),
            }
        )
        return token, jti

    def encode_refresh(
        self, *, user_id: str, jti: str, family_id: str, expires_at: datetime, now: datetime
    ) -> str:
        return self._encode(
            {
                "sub": user_id,
                "iat": int(now.timestamp()),
                "exp": int(expires_at.timestamp()),
                "jti": jti,
                "typ": TokenType.refresh.value,
                "iss": ISSUER,
                "aud": AUDIENCE,
                "fam": family_id,
            }
        )

    def _decode(self, token: str, typ: TokenType, now: datetime) -> dict[str, Any]:
        try:
            # Only HS256 is accepted, so `alg: none` and algorithm-confusion tokens fail here. Expiry is
            # checked below against the `now` the caller passes in rather than the wall clock.
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken() from exc
        if claims.get("typ") != typ.value:
            raise InvalidToken()
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= int(ensure_utc(now).timestamp()):
            raise InvalidToken()
        for name in ("sub", "jti"):
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise InvalidToken()
        return claims

    def decode_access(self, token: str, *, now: datetime) -> AccessClaims:
        claims = self._decode(token, TokenType.access, now)
        version = claims.get("ver")
        family = claims.get("fam")
        permissions = claims.get("permissions")
        if not isinstance(version, int) or not isinstance(family, str) or not isinstance(permissions, list):
            raise InvalidToken()
        return AccessClaims(claims["sub"], claims["jti"], family, version, tuple(str(p) for p in permissions))

    def decode_refresh(self, token: str, *, now: datetime) -> RefreshClaims:
        claims = self._decode(token, TokenType.refresh, now)
        family = claims.get("fam")
        if not isinstance(family, str) or not family:
            raise InvalidToken()
        return RefreshClaims(claims["sub"], claims["jti"], family)


@dataclass(frozen=True)
class IssuedTokens:
    user: User
    access_token: str
    refresh_token: str
    refresh_expires_at: datetime

    @property
    def expires_in(self) -> int:
        return int(ACCESS_TTL.total_seconds())
