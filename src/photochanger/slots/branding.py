"""A slot's guest-page branding: read it for the guest page, replace it from the admin."""

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from photochanger.audit import service as audit_service
from photochanger.audit.service import AuditActor
from photochanger.core.errors import ValidationFailed
from photochanger.core.links import Links
from photochanger.core.time import utcnow
from photochanger.models import MediaObject, Slot, SlotBranding
from photochanger.slots.exceptions import SlotNotFound

_HEX = r"^#[0-9a-fA-F]{6}$"


class BrandingUpdate(BaseModel):
    """The whole branding of a slot; empty strings clear a field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, Field(max_length=80)] = ""
    text: Annotated[str, Field(max_length=280)] = ""
    logo_media_id: Annotated[str, Field(max_length=36)] = ""
    accent_color: str = ""
    background_color: str = ""

    @field_validator("accent_color", "background_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if value and not re.fullmatch(_HEX, value):
            raise ValueError("a colour is #rrggbb")
        return value.lower()


@dataclass(frozen=True)
class Branding:
    title: str | None = None
    text: str | None = None
    logo_media_id: str | None = None
    accent_color: str | None = None
    background_color: str | None = None

    @property
    def logo_url(self) -> str | None:
        return Links.slot_logo(self.logo_media_id) if self.logo_media_id else None


async def get(session: AsyncSession, slot_id: str) -> Branding:
    """The slot's branding (all empty when none is set)."""
    row = await session.get(SlotBranding, slot_id)
    if row is None:
        return Branding()
    return Branding(row.title, row.text, row.logo_media_id, row.accent_color, row.background_color)


async def is_logo(session: AsyncSession, media_id: str) -> bool:
    """True when some slot shows this template media as its logo (only those are served publicly)."""

    found = await session.execute(select(SlotBranding.slot_id).where(SlotBranding.logo_media_id == media_id))
    return found.first() is not None


async def update(session: AsyncSession, slot_id: str, data: BrandingUpdate, *, actor: AuditActor) -> Branding:
    """Replace the slot's branding. Flushes only. Raises `SlotNotFound`, and `ValidationFailed` (field
    `logo_media_id`) for a logo that is not a template."""
    if await session.get(Slot, slot_id) is None:
        raise SlotNotFound(f"There is no slot {slot_id!r}.")
    if data.logo_media_id and await session.get(MediaObject, data.logo_media_id) is None:
        raise ValidationFailed(
            "The logo is not a template.",
            errors=[{"field": "logo_media_id", "type": "template_missing", "msg": "No such template media."}],
        )
    row = await session.get(SlotBranding, slot_id)
    if row is None:
        row = SlotBranding(slot_id=slot_id)
        session.add(row)
    row.title = data.title or None
    row.text = data.text or None
    row.logo_media_id = data.logo_media_id or None
    row.accent_color = data.accent_color or None
    row.background_color = data.background_color or None
    row.updated_at = utcnow()
    row.updated_by = actor.username
    await audit_service.record(session, actor, "slot.branding", f"slot:{slot_id}", data.model_dump())
    await session.flush()
    return await get(session, slot_id)
