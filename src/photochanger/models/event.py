"""Events: a named stretch of booth work (a wedding, a party) grouping slots, branding and the photos taken."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class Event(Base):
    """One event. Its photos stay (for the operator) until `retain_until`, whatever the guest-link TTL."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_retain_until", "retain_until"),
        Index("ix_event_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retention_days: Mapped[int] = mapped_column(Integer)
    # ends_at + retention_days, kept in step by the service so cleanup can compare it in SQL.
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(120), default="")
    logo_media_id: Mapped[str | None] = mapped_column(
        ForeignKey("media_object.id", ondelete="SET NULL"), nullable=True
    )
    primary_color: Mapped[str] = mapped_column(String(7), default="#222222")
    accent_color: Mapped[str] = mapped_column(String(7), default="#d0463b")
    text: Mapped[str] = mapped_column(String(500), default="")
    gallery_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # The public gallery's capability; kept when the gallery closes so printed QR codes work when reopened.
    gallery_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # Slot configurations (display name, provider, operation, settings) captured for reuse.
    slot_configs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source_event_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(120), nullable=True)


class EventSlot(Base):
    """A slot used by an event. `open` mirrors the event's state so the database itself keeps a slot in at
    most one open event (a partial unique index on both dialects)."""

    __tablename__ = "event_slot"
    __table_args__ = (
        Index(
            "uq_event_slot_open_slot_id",
            "slot_id",
            unique=True,
            postgresql_where=text("open"),
            sqlite_where=text("open"),
        ),
    )

    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), primary_key=True)
    keep_originals: Mapped[bool] = mapped_column(Boolean, default=False)
    open: Mapped[bool] = mapped_column(Boolean, default=True)


class EventPhoto(Base):
    """Per-photo state of an event job, only for jobs that have some: hidden from the public gallery, and
    the original shot when the event keeps originals for the job's slot."""

    __tablename__ = "event_photo"
    __table_args__ = (Index("ix_event_photo_event_id", "event_id"),)

    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    original_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    original_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class EventEngagement(Base):
    """Guest-side counters per event and UTC hour (`page_open`, `download`, `share`), counted by the server."""

    __tablename__ = "event_engagement"

    event_id: Mapped[str] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
