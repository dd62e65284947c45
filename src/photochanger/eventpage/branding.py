"""What the guest pages of an event photo show of the event: its branding (title, logo, colours, text), the
logo's link and the share link."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.core.links import Links
from photochanger.eventpage import engagement
from photochanger.eventpage.engagement import Metric
from photochanger.eventpage.repository import EventPageRepository
from photochanger.models import Event

COLOR = r"^#[0-9a-fA-F]{6}$"


class Branding(BaseModel):
    """What the event's guest pages and gallery show: a title, a logo (template media), colours, a text."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(max_length=120)] = ""
    logo_media_id: Annotated[str | None, Field(max_length=36)] = None
    primary_color: Annotated[str, Field(pattern=COLOR)] = "#222222"
    accent_color: Annotated[str, Field(pattern=COLOR)] = "#d0463b"
    text: Annotated[str, Field(max_length=500)] = ""


def branding_of(event: Event) -> Branding:
    return Branding(
        title=event.title,
        logo_media_id=event.logo_media_id,
        primary_color=event.primary_color,
        accent_color=event.accent_color,
        text=event.text,
    )


def brand_context(event: Event) -> dict[str, object]:
    """The template values of an event's branding: `brand` and the logo's `logo_url` (None without one)."""
    branding = branding_of(event)
    return {
        "brand": branding,
        "logo_url": Links.event_logo(event.id) if branding.logo_media_id else None,
    }


async def event_of_job(session: AsyncSession, job_id: str) -> Event | None:
    return await EventPageRepository(session).event_of_job(job_id)


async def result_page_context(session: AsyncSession, event: Event, *, job_id: str) -> dict[str, object]:
    """What the guest page of an event photo adds to the result page: the event's branding and its share
    counter. Counts a page open."""
    await engagement.count(session, event.id, Metric.page_open)
    return {"share_url": Links.share(job_id), **brand_context(event)}
