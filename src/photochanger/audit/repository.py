"""Queries over audit_log."""

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.models import AuditLog


class AuditLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, entry: AuditLog) -> None:
        self.session.add(entry)

    async def page(
        self, *, limit: int, offset: int, action: str | None = None, target: str | None = None
    ) -> tuple[Sequence[AuditLog], int]:
        query = select(AuditLog)
        counter = select(func.count()).select_from(AuditLog)
        if action is not None:
            query = query.where(AuditLog.action == action)
            counter = counter.where(AuditLog.action == action)
        if target is not None:
            query = query.where(AuditLog.target == target)
            counter = counter.where(AuditLog.target == target)
        rows = (
            (
                await self.session.execute(
                    query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc()).limit(limit).offset(offset)
                )
            )
            .scalars()
            .all()
        )
        total = int((await self.session.execute(counter)).scalar_one())
        return rows, total
