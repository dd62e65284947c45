"""The typed repository base: one model's queries behind a session (after polar's `kit/repository`)."""

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

ModelT = TypeVar("ModelT")


class Repository(Generic[ModelT]):
    """Subclasses set `model` and add the queries their callers need. Repositories flush, never commit."""

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def base(self) -> Select[ModelT]:
        return select(self.model)

    async def get(self, id: Any) -> ModelT | None:
        found: ModelT | None = await self.session.get(self.model, id)
        return found

    async def one_or_none(self, statement: Select[ModelT]) -> ModelT | None:
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def all(self, statement: Select[ModelT]) -> Sequence[ModelT]:
        return (await self.session.execute(statement)).scalars().all()

    def add(self, obj: ModelT) -> ModelT:
        self.session.add(obj)
        return obj

    async def delete(self, obj: ModelT) -> None:
        await self.session.delete(obj)
