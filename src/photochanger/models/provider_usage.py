"""Provider calls, images, refusals and estimated cost per UTC day, provider, key, slot, model and chain link."""

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class ProviderUsageDaily(Base):
    __tablename__ = "provider_usage_daily"
    __table_args__ = (Index("ix_provider_usage_daily_day", "day"),)

    # Midnight UTC of the day the job started.
    day: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The admin key's id, "env" for the environment's key, "" when not known (a cancelled hedge).
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    # No foreign key: usage (and what it cost) outlives a slot's deletion.
    slot_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    model: Mapped[str] = mapped_column(String(120), primary_key=True)
    # The slot's chain link the calls were made for: 0 the primary, 1.. its fallbacks.
    link: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    images: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # Images x the model's price per image when they were produced (the admin's currency).
    cost: Mapped[float] = mapped_column(Float, default=0.0)
