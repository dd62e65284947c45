"""Admin accounts: argon2id password hash, role and the token version that invalidates access tokens."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class User(Base):
    __tablename__ = "user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change, role change and disable: access tokens carry it as `ver`, so a bump
    # kills every outstanding access token at once instead of after its 15 minutes.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set for the first admin when its password was generated (shown once on the terminal): the admin UI
    # asks for a new one before anything else. Cleared by a password change.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
