"""Queries over user, refresh_token and login_attempt."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, select, union_all, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.auth.permissions import Role
from photochanger.models import Job, JobStatDaily, JobStatus, LoginAttempt, RefreshToken, User


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

    async def mark_rotated(self, jti: str, *, replaced_by: str, now: datetime) -> bool:
        """Revoke `jti` as rotated only if it is still live; False means another request got there first."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.jti == jti, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason="rotated", replaced_by=replaced_by)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def revoke_family(self, family_id: str, *, reason: str, now: datetime) -> int:
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

    async def revoke_user(self, user_id: uuid.UUID, *, reason: str, now: datetime) -> int:
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now, revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result)

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


class LoginAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, attempt: LoginAttempt) -> None:
        self.session.add(attempt)

    async def recent(
        self,
        *,
        client: str,
        username: str | None,
        since: datetime,
        limit: int,
        exclude: int | None = None,
    ) -> Sequence[tuple[datetime, bool]]:
        """(created_at, succeeded) of the newest `limit` attempts since `since`, newest first."""
        conditions = [LoginAttempt.client == client, LoginAttempt.created_at >= since]
        if username is not None:
            conditions.append(LoginAttempt.username == username)
        if exclude is not None:
            conditions.append(LoginAttempt.id != exclude)
        rows = await self.session.execute(
            select(LoginAttempt.created_at, LoginAttempt.succeeded)
            .where(and_(*conditions))
            .order_by(LoginAttempt.created_at.desc(), LoginAttempt.id.desc())
            .limit(limit)
        )
        return [(created_at, succeeded) for created_at, succeeded in rows.all()]

    async def recent_failures(
        self, *, username: str, since: datetime, limit: int, exclude: int | None = None
    ) -> Sequence[datetime]:
        """When the newest `limit` failures for `username` since `since` happened, from any client, newest
        first."""
        query = select(LoginAttempt.created_at).where(
            LoginAttempt.username == username,
            LoginAttempt.created_at >= since,
            LoginAttempt.succeeded.is_(False),
        )
        if exclude is not None:
            query = query.where(LoginAttempt.id != exclude)
        rows = await self.session.execute(
            query.order_by(LoginAttempt.created_at.desc(), LoginAttempt.id.desc()).limit(limit)
        )
        return list(rows.scalars())

    async def succeeded_since(self, *, username: str, client: str, since: datetime) -> bool:
        query = (
            select(LoginAttempt.id)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.client == client,
                LoginAttempt.succeeded.is_(True),
                LoginAttempt.created_at >= since,
            )
            .limit(1)
        )
        return (await self.session.execute(query)).first() is not None

    async def mark_succeeded(self, attempt_id: int) -> None:
        await self.session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.id == attempt_id)
            .values(succeeded=True)
            .execution_options(synchronize_session=False)
        )

    async def purge_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(delete(LoginAttempt).where(LoginAttempt.created_at < cutoff))
        return _rowcount(result)


class JobCountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_status(self) -> dict[str, int]:
        """All-time jobs by status: finished ones summed from the daily rollup (kept in the transaction
        that ends a job, so exact), pending ones counted on `ix_job_status_created_at`. One statement
        whose cost follows the number of days, not of jobs."""
        finished = select(JobStatDaily.status, func.sum(JobStatDaily.jobs)).group_by(JobStatDaily.status)
        pending = select(Job.status, func.count()).where(Job.status == JobStatus.pending).group_by(Job.status)
        rows = await self.session.execute(union_all(finished, pending))
        counted: dict[str, int] = {}
        for status, count in rows.all():
            counted[str(status)] = counted.get(str(status), 0) + int(count)
        return counted


def _rowcount(result: object) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
