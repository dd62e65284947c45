"""Provider API keys entered in the admin: encrypted at rest, shown only by their last four characters."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class KeyStatus(StrEnum):
    ok = "ok"
    # The provider refused the key itself (revoked, wrong, no billing): not used until replaced or checked ok.
    broken = "broken"


class ProviderKey(Base):
    __tablename__ = "provider_key"
    __table_args__ = (Index("ix_provider_key_provider", "provider"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    provider: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80), default="")
    # AES-GCM (core.crypto) with the row id as associated data; never the plain key.
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary())
    last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16), default=KeyStatus.ok)
    status_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    check_ok: Mapped[bool | None] = mapped_column(nullable=True)
    check_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
