"""Finding an event from a public handle (a gallery token, an event id) for the gallery pages; the event of a
job is `eventpage.branding.event_of_job`."""

from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.time import utcnow
from photochanger.events.repository import EventRepository
from photochanger.models import Event


async def open_gallery(session: AsyncSession, token: str) -> Event | None:
    if not 16 <= len(token) <= 64:
        return None
    event = await EventRepository(session).by_gallery_token(token)
    if event is None or not event.gallery_open or event.retain_until < utcnow():
        return None
    return event


async def event_by_id(session: AsyncSession, event_id: str) -> Event | None:
    """The event with this id; None for anything that is not one (ids are 32 hex characters)."""
    return await EventRepository(session).get(event_id) if len(event_id) == 32 else None
