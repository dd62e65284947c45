"""Queries over user and refresh_token: the account and token-family store the auth layer reads."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.permissions import Role
from photochanger.core.db import rowcount
from photochanger.models import RefreshToken, User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_username(self, username: str) -> User | None:
        return (
            await self.session.execute(select(User).where(User.username == username))
        ).scalar_one_or_none()

    async def list(self) -> Sequence[User]:
        return (await self.session.execute(select(User).order_by(User.username))).scalars().all()

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(User))).scalar_one())

    async def count_active_admins(self, *, excluding: uuid.UUID | None = None) -> int:
        query = (
            select(func.count()).select_from(User).where(User.role == Role.admin, User.is_active.is_(True))
        )
        if excluding is not None:
            query = query.where(User.id != excluding)
        return int((await self.session.execute(query)).scalar_one())

    async def stats(self) -> tuple[int, int, int]:
        """(total, active, active admins)."""
        total = await self.count()
        active = int(
            (
                await self.session.execute(
                    select(func.count()).select_from(User).where(User.is_active.is_(True))
                )
            ).scalar_one()
        )
        return total, active, await self.count_active_admins()

    def add(self, user: User) -> None:
        self.session.add(user)

    async def delete(self, user: User) -> None:
        await self.session.delete(user)


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, jti: str) -> RefreshToken | None:
        return await self.session.get(RefreshToken, jti)

    def add(self, token: RefreshToken) -> None:
        self.session.add(token)

    async def _revoke_live(self, which: ColumnElement[bool], *, now: datetime, **values: str) -> int:
        """Revoke every still-live token `which` selects; the number revoked."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(which, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result)

    async def mark_rotated(self, jti: str, *, replaced_by: str, now: datetime) -> bool:
        """Revoke `jti` as rotated only if it is still live; False means another request got there first."""
        which = RefreshToken.jti == jti
        return await self._revoke_live(which, now=now, revoked_reason="rotated", replaced_by=replaced_by) == 1

    async def revoke_family(self, family_id: str, *, reason: str, now: datetime) -> int:
        return await self._revoke_live(RefreshToken.family_id == family_id, now=now, revoked_reason=reason)

    async def revoke_user(self, user_id: uuid.UUID, *, reason: str, now: datetime) -> int:
        return await self._revoke_live(RefreshToken.user_id == user_id, now=now, revoked_reason=reason)

    async def family_alive(self, family_id: str, *, user_id: uuid.UUID, now: datetime) -> bool:
        """True while the family has an unrevoked token within its absolute lifetime."""
        query = (
            select(RefreshToken.jti)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .limit(1)
        )
        return (await self.session.execute(query)).first() is not None

    async def count_live(self, *, now: datetime) -> int:
        query = (
            select(func.count())
            .select_from(RefreshToken)
            .where(
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
                RefreshToken.idle_expires_at > now,
            )
        )
        return int((await self.session.execute(query)).scalar_one())
