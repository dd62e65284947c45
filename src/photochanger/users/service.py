"""Login with throttling, refresh-token rotation with reuse detection, sessions and user management.

Services flush and never commit, with two deliberate exceptions, because an error rolls the request's unit of
work back and this security state must survive it: password attempts are recorded by `throttle.reserve` in
a transaction of their own before the password is evaluated, and a detected refresh-token reuse is committed
before the error is raised.
"""

import logging
import re
import secrets
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import ActorRef, AuditActor
from photochanger.auth.exceptions import InvalidToken
from photochanger.auth.permissions import Role, permissions_for
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
from photochanger.core.errors import ValidationFailed
from photochanger.core.passwords import hash_password, needs_rehash, verify_password
from photochanger.core.time import utcnow
from photochanger.models import RefreshToken, User
from photochanger.users import throttle
from photochanger.users.exceptions import (
    CannotDeleteSelf,
    InvalidCredentials,
    LastAdmin,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from photochanger.users.repository import LoginAttemptRepository
from photochanger.users.schemas import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

logger = logging.getLogger(__name__)

_USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")

_dummy_hash: tuple[passwords.HashProfile, str] | None = None


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_new_username(username: str) -> str:
    name = normalize_username(username)
    if not _USERNAME_PATTERN.match(name):
        raise ValidationFailed(
            "Usernames are 2-64 characters: lower-case letters, digits and _ . @ -",
            errors=[{"loc": ["body", "username"], "field": "username", "msg": "invalid username"}],
        )
    return name


def check_new_password(password: str, *, field: str = "password") -> None:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Passwords are {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long.",
            errors=[{"loc": ["body", field], "field": field, "msg": "password length out of bounds"}],
        )


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


async def _invalidate_sessions(session: AsyncSession, user: User, *, reason: str, now: datetime) -> None:
    user.token_version += 1
    user.updated_at = now
    await RefreshTokenRepository(session).revoke_user(user.id, reason=reason, now=now)


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
    await _invalidate_sessions(session, user, reason="password_change", now=now)
    await audit_service.record(
        session,
        ActorRef(user.id, user.username),
        "user.password_change",
        f"user:{user.id}",
        {"password": "changed"},
        now=now,
    )
    return await _issue(session, codec, user, now=now)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise UserNotFound()
    return user


async def get_user_by_username(session: AsyncSession, username: str) -> User:
    user = await UserRepository(session).get_by_username(normalize_username(username))
    if user is None:
        raise UserNotFound()
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list(await UserRepository(session).list())


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    actor: AuditActor | str | None,
    now: datetime | None = None,
) -> User:
    """Create an account (`UsernameTaken` 409, `WeakPassword`/`ValidationFailed` 422). Flushes only."""
    now = now or utcnow()
    name = check_new_username(username)
    check_new_password(password)
    repo = UserRepository(session)
    if await repo.get_by_username(name) is not None:
        raise UsernameTaken()
    user = User(
        id=uuid.uuid4(),
        username=name,
        password_hash=await hash_password(password),
        role=role.value,
        is_active=True,
        token_version=1,
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    repo.add(user)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create won the race; the request's unit of work is rolled back
        raise UsernameTaken() from None
    await audit_service.record(
        session, actor, "user.create", f"user:{user.id}", {"username": name, "role": role.value}, now=now
    )
    return user


async def _guard_last_admin(session: AsyncSession, user: User) -> None:
    if (
        user.role == Role.admin
        and user.is_active
        and await UserRepository(session).count_active_admins(excluding=user.id) == 0
    ):
        raise LastAdmin()


async def delete_user(
    session: AsyncSession, user_id: uuid.UUID, *, actor: AuditActor, now: datetime | None = None
) -> None:
    """Delete an account and its refresh tokens. Yourself → `CannotDeleteSelf`, last admin → `LastAdmin`."""
    now = now or utcnow()
    if user_id == actor.user_id:
        raise CannotDeleteSelf()
    user = await get_user(session, user_id)
    await _guard_last_admin(session, user)
    await RefreshTokenRepository(session).revoke_user(user.id, reason="user_deleted", now=now)
    await audit_service.record(
        session,
        actor,
        "user.delete",
        f"user:{user.id}",
        {"username": user.username, "role": user.role},
        now=now,
    )
    await UserRepository(session).delete(user)
    await session.flush()


async def set_role(
    session: AsyncSession, user_id: uuid.UUID, role: Role, *, actor: AuditActor, now: datetime | None = None
) -> User:
    """Change a role; the user's tokens die at once. Demoting the last active admin → `LastAdmin`."""
    now = now or utcnow()
    user = await get_user(session, user_id)
    if user.role == role.value:
        return user
    if role != Role.admin:
        await _guard_last_admin(session, user)
    old = user.role
    user.role = role.value
    await _invalidate_sessions(session, user, reason="role_change", now=now)
    await audit_service.record(
        session, actor, "user.role", f"user:{user.id}", {"role": {"old": old, "new": role.value}}, now=now
    )
    await session.flush()
    return user


async def set_active(
    session: AsyncSession,
    user_id: uuid.UUID,
    is_active: bool,
    *,
    actor: AuditActor,
    now: datetime | None = None,
) -> User:
    """Enable or disable an account; disabling kills its tokens. Yourself or the last admin → 409."""
    now = now or utcnow()
    user = await get_user(session, user_id)
    if user.is_active == is_active:
        return user
    if not is_active:
        if user.id == actor.user_id:
            raise CannotDeleteSelf()
        await _guard_last_admin(session, user)
    user.is_active = is_active
    await _invalidate_sessions(session, user, reason="user_disabled", now=now)
    await audit_service.record(
        session,
        actor,
        "user.active",
        f"user:{user.id}",
        {"is_active": {"old": not is_active, "new": is_active}},
        now=now,
    )
    await session.flush()
    return user


async def reset_password(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    actor: AuditActor | str | None,
    now: datetime | None = None,
) -> User:
    """Set a new password without the old one (CLI); every session of the user is revoked."""
    now = now or utcnow()
    user = await get_user_by_username(session, username)
    check_new_password(password)
    user.password_hash = await hash_password(password)
    user.password_changed_at = now
    await _invalidate_sessions(session, user, reason="password_reset", now=now)
    await audit_service.record(
        session, actor, "user.password_reset", f"user:{user.id}", {"password": "changed"}, now=now
    )
    await session.flush()
    return user


async def purge_login_attempts(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Drop attempts older than the retention window (for the cleanup job)."""
    return await LoginAttemptRepository(session).purge_before((now or utcnow()) - throttle.ATTEMPT_RETENTION)
