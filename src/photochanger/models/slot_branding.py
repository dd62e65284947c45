"""What a slot's guest page shows around the photo: a title, a logo from template media, colours, a text."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class SlotBranding(Base):
    """At most one row per slot; no row means the plain guest page."""

    __tablename__ = "slot_branding"

    slot_id: Mapped[str] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(80), nullable=True)
    text: Mapped[str | None] = mapped_column(String(280), nullable=True)
    # A deleted template only takes the logo away, it never blocks the deletion.
    logo_media_id: Mapped[str | None] = mapped_column(
        ForeignKey("media_object.id", ondelete="SET NULL"), nullable=True
    )
    accent_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    background_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
