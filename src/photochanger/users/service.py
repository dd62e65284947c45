"""User management: usernames and password rules, accounts (create, delete, role, on/off, password reset)
and the last-admin guard. Login sessions are `users.sessions`'s. Services flush and never commit."""

import logging
import re
import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.auth.permissions import Role
from photochanger.auth.repository import RefreshTokenRepository, UserRepository
from photochanger.core.errors import ValidationFailed
from photochanger.core.passwords import hash_password
from photochanger.core.time import utcnow
from photochanger.models import User
from photochanger.users.exceptions import (
    CannotDeleteSelf,
    LastAdmin,
    UsernameTaken,
    UserNotFound,
    WeakPassword,
)
from photochanger.users.schemas import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

logger = logging.getLogger(__name__)

_USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,63}$")


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


async def end_sessions(session: AsyncSession, user: User, *, reason: str, now: datetime) -> None:
    """Every session of `user` ends at once: access tokens by the version bump, refresh families revoked."""
    user.token_version += 1
    user.updated_at = now
    await RefreshTokenRepository(session).revoke_user(user.id, reason=reason, now=now)


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
    await end_sessions(session, user, reason="role_change", now=now)
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
    await end_sessions(session, user, reason="user_disabled", now=now)
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
    await end_sessions(session, user, reason="password_reset", now=now)
    await audit_service.record(
        session, actor, "user.password_reset", f"user:{user.id}", {"password": "changed"}, now=now
    )
    await session.flush()
    return user
