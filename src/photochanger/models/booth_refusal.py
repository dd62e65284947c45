"""Booth uploads refused before a job of their own existed (wrong password, disabled slot, busy, too large,
bad image, unconfigured provider), with the booth's self-reported identity; never the password."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class BoothRefusal(Base):
    __tablename__ = "booth_refusal"
    __table_args__ = (
        Index("ix_booth_refusal_slot_id_created_at", "slot_id", "created_at"),
        Index("ix_booth_refusal_created_at", "created_at"),
    )

    # SQLite only auto-increments an INTEGER PRIMARY KEY.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    # No foreign key: uploads to a slot that does not exist are refused (and recorded) too.
    slot_id: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(SmallInteger)
    detail: Mapped[str] = mapped_column(String(300))
    booth_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    booth_user: Mapped[str | None] = mapped_column(String(120), nullable=True)
    booth_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
