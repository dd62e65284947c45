"""Queries over login_attempt (the login throttle's ledger)."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.db import rowcount
from photochanger.models import LoginAttempt


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
        return rowcount(result)
