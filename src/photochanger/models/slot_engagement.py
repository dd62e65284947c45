"""Guest-side counters per slot and UTC hour (`page_open`, `download`), for every slot, in an event or not."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class SlotEngagement(Base):
    __tablename__ = "slot_engagement"
    __table_args__ = (Index("ix_slot_engagement_hour", "hour"),)

    slot_id: Mapped[str] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
