"""Per-provider settings admins change at runtime: concurrency, default model, price per image by model."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class ProviderSetting(Base):
    __tablename__ = "provider_setting"

    provider: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Jobs in flight at once for this provider; None: the runtime setting `provider_concurrency`.
    concurrency: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    # The model a slot uses when its parameters name none.
    default_model: Mapped[str | None] = mapped_column(String(120), nullable=True)
    # {model: estimated price of one image}, in the admin's currency.
    prices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
