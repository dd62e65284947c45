"""An audit actor for service-level tests: the first admin the app created, as a plain `ActorRef`."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit.service import ActorRef
from photochanger.models import User


async def first_admin(session: AsyncSession) -> ActorRef:
    user = (await session.execute(select(User).order_by(User.created_at).limit(1))).scalar_one()
    return ActorRef(user.id, user.username)
