"""The check every authenticated request runs: is this access token still good, and for whom."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.exceptions import InvalidToken
from photochanger.auth.repository import RefreshTokenRepository, UserRepository
from photochanger.auth.tokens import TokenCodec
from photochanger.core.time import utcnow
from photochanger.models import User


async def authenticate_access(
    session: AsyncSession, codec: TokenCodec, token: str, *, now: datetime | None = None
) -> User:
    """The active user an access token speaks for. Raises `InvalidToken` when the token is forged, expired,
    of the wrong type, older than the user's last password/role/active change, or its refresh family was
    logged out or revoked (so logout and reuse detection end access at once, not after 15 minutes)."""
    now = now or utcnow()
    claims = codec.decode_access(token, now=now)
    try:
        user_id = uuid.UUID(claims.user_id)
    except ValueError:
        raise InvalidToken() from None
    user = await UserRepository(session).get(user_id)
    if user is None or not user.is_active or user.token_version != claims.version:
        raise InvalidToken()
    if not await RefreshTokenRepository(session).family_alive(claims.family_id, user_id=user.id, now=now):
        raise InvalidToken()
    return user
