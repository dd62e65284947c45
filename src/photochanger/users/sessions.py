"""Login sessions: login under the throttle, refresh-token rotation with reuse detection, logout and the
password change that ends every other session.

Services flush and never commit, with two deliberate exceptions, because an error rolls the request's unit of
work back and this security state must survive it: password attempts are recorded by `throttle.reserve` in
a transaction of their own before the password is evaluated, and a detected refresh-token reuse is committed
before the error is raised.
"""

import logging
import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import ActorRef
from photochanger.auth.exceptions import InvalidToken
from photochanger.auth.permissions import permissions_for
from photochanger.auth.repository import RefreshTokenRepository, UserRepository
from photochanger.auth.tokens import (
    REFRESH_ABSOLUTE_TTL,
    REFRESH_IDLE_TTL,
    IssuedTokens,
    TokenCodec,
    new_jti,
    token_digest,
)
from photochanger.core import passwords
from photochanger.core.clients import client_key
from photochanger.core.passwords import hash_password, needs_rehash, verify_password
from photochanger.core.time import utcnow
from photochanger.models import RefreshToken, User
from photochanger.users import throttle
from photochanger.users.exceptions import InvalidCredentials, WrongPassword
from photochanger.users.service import check_new_password, end_sessions, normalize_username

logger = logging.getLogger(__name__)

_dummy_hash: tuple[passwords.HashProfile, str] | None = None


async def _get_dummy_hash() -> str:
    """A real argon2id hash to verify unknown usernames against, so they cost as much as wrong passwords."""
    # Two first logins racing may both compute one; either hash serves equally well.
    global _dummy_hash
    profile = passwords.current_profile()
    if _dummy_hash is None or _dummy_hash[0] != profile:
        _dummy_hash = (profile, await hash_password(secrets.token_urlsafe(24)))
    return _dummy_hash[1]


async def login(
    session: AsyncSession,
    codec: TokenCodec,
    *,
    username: str,
    password: str,
    client: str,
    now: datetime | None = None,
) -> IssuedTokens:
    """Check throttling and credentials, then open a new refresh family.

    Raises `TooManyLoginAttempts` (429) or `InvalidCredentials` (401, the same for unknown users, disabled
    users and wrong passwords; an unknown user still costs one argon2 verification)."""
    now = now or utcnow()
    name = normalize_username(username)[:64]
    client = client_key(client)
    attempt_id = await throttle.reserve(session, username=name, client=client, now=now)
    user = await UserRepository(session).get_by_username(name)
    if user is None:
        await verify_password(await _get_dummy_hash(), password)
        ok = False
    else:
        ok = await verify_password(user.password_hash, password) and user.is_active
    logger.info(
        "login attempt", extra={"username": name, "client": client, "outcome": "ok" if ok else "failed"}
    )
    if not ok or user is None:
        raise InvalidCredentials()  # the attempt is already recorded (and committed) as a failure
    await throttle.mark_succeeded(session, attempt_id)
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    user.last_login_at = now
    return await _issue(session, codec, user, now=now)


async def _issue(
    session: AsyncSession,
    codec: TokenCodec,
    user: User,
    *,
    now: datetime,
    family_id: str | None = None,
    family_expires_at: datetime | None = None,
    jti: str | None = None,
) -> IssuedTokens:
    expires_at = family_expires_at or now + REFRESH_ABSOLUTE_TTL
    idle_expires_at = min(now + REFRESH_IDLE_TTL, expires_at)
    family_id = family_id or new_jti()
    jti = jti or new_jti()
    refresh = codec.encode_refresh(
        user_id=str(user.id), jti=jti, family_id=family_id, expires_at=idle_expires_at, now=now
    )
    RefreshTokenRepository(session).add(
        RefreshToken(
            jti=jti,
            user_id=user.id,
            family_id=family_id,
            token_hash=token_digest(refresh),
            created_at=now,
            expires_at=expires_at,
            idle_expires_at=idle_expires_at,
        )
    )
    access, _ = codec.encode_access(
        user_id=str(user.id),
        family_id=family_id,
        version=user.token_version,
        permissions=permissions_for(user.role),
        now=now,
    )
    await session.flush()
    return IssuedTokens(user, access, refresh, idle_expires_at)


async def _stored_refresh(
    session: AsyncSession, codec: TokenCodec, token: str, *, now: datetime
) -> RefreshToken:
    claims = codec.decode_refresh(token, now=now)
    row = await RefreshTokenRepository(session).get(claims.jti)
    if (
        row is None
        or not secrets.compare_digest(row.token_hash, token_digest(token))
        or row.family_id != claims.family_id
        or str(row.user_id) != claims.user_id
    ):
        raise InvalidToken()
    return row


async def refresh(
    session: AsyncSession, codec: TokenCodec, token: str, *, now: datetime | None = None
) -> IssuedTokens:
    """Rotate: revoke the presented refresh token and issue a new pair in the same family.

    A token that was already rotated is a sign of theft: its whole family is revoked (committed) and
    `InvalidToken` (401) raised. Expired, revoked, unknown or forged tokens also raise `InvalidToken`."""
    now = now or utcnow()
    repo = RefreshTokenRepository(session)
    row = await _stored_refresh(session, codec, token, now=now)
    if row.revoked_at is not None:
        if row.revoked_reason == "rotated":
            await _revoke_family_for_reuse(session, row, now=now)
        raise InvalidToken()
    if row.expires_at <= now or row.idle_expires_at <= now:
        raise InvalidToken()
    user = await UserRepository(session).get(row.user_id)
    if user is None or not user.is_active:
        raise InvalidToken()
    successor = new_jti()
    # Conditional update: of two concurrent refreshes with one token, exactly one wins; the loser is reuse.
    if not await repo.mark_rotated(row.jti, replaced_by=successor, now=now):
        await _revoke_family_for_reuse(session, row, now=now)
        raise InvalidToken()
    return await _issue(
        session,
        codec,
        user,
        now=now,
        family_id=row.family_id,
        family_expires_at=row.expires_at,
        jti=successor,
    )


async def _revoke_family_for_reuse(session: AsyncSession, row: RefreshToken, *, now: datetime) -> None:
    count = await RefreshTokenRepository(session).revoke_family(row.family_id, reason="reuse", now=now)
    logger.warning(
        "refresh token reuse: family revoked",
        extra={"user_id": str(row.user_id), "family_id": row.family_id, "revoked": count},
    )
    await session.commit()


async def logout(
    session: AsyncSession, codec: TokenCodec, token: str, *, now: datetime | None = None
) -> None:
    """Revoke the refresh family `token` belongs to. Unknown or invalid tokens are ignored (idempotent)."""
    now = now or utcnow()
    try:
        row = await _stored_refresh(session, codec, token, now=now)
    except InvalidToken:
        return
    await RefreshTokenRepository(session).revoke_family(row.family_id, reason="logout", now=now)


async def logout_access(
    session: AsyncSession, codec: TokenCodec, access_token: str, *, now: datetime | None = None
) -> None:
    """Revoke the refresh family an access token belongs to: the admin UI's logout, which never sees the
    refresh cookie (its path is `/api/auth`). Invalid or expired tokens are ignored (idempotent)."""
    now = now or utcnow()
    try:
        claims = codec.decode_access(access_token, now=now)
    except InvalidToken:
        return
    await RefreshTokenRepository(session).revoke_family(claims.family_id, reason="logout", now=now)


async def change_password(
    session: AsyncSession,
    codec: TokenCodec,
    user: User,
    *,
    current_password: str,
    new_password: str,
    client: str,
    now: datetime | None = None,
) -> IssuedTokens:
    """Replace the password after checking the current one (`WrongPassword`, 403), under the login
    throttle (`TooManyLoginAttempts`, 429: a stolen session must not become a guessing oracle); every
    session of the user is revoked and a fresh pair returned for the caller."""
    now = now or utcnow()
    attempt_id = await throttle.reserve(session, username=user.username, client=client_key(client), now=now)
    if not await verify_password(user.password_hash, current_password):
        raise WrongPassword()
    await throttle.mark_succeeded(session, attempt_id)
    check_new_password(new_password, field="new_password")
    user.password_hash = await hash_password(new_password)
    user.password_changed_at = now
    user.must_change_password = False
    await end_sessions(session, user, reason="password_change", now=now)
    await audit_service.record(
        session,
        ActorRef(user.id, user.username),
        "user.password_change",
        f"user:{user.id}",
        {"password": "changed"},
        now=now,
    )
    return await _issue(session, codec, user, now=now)
