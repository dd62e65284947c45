"""One booth upload (or admin test run) and its outcome."""

import re
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ColumnElement, ForeignKey, Index, Integer, String, Text, and_, text
from sqlalchemy.orm import Mapped, mapped_column

from photochanger.core.time import ensure_utc, utcnow
from photochanger.core.types import UTCDateTime
from photochanger.models.base import Base


class JobStatus(StrEnum):
    pending = "pending"
    done = "done"
    timeout = "timeout"
    failed = "failed"


class JobSource(StrEnum):
    ingest = "ingest"
    ui_test = "ui_test"


# 128 random bits, URL-safe: 22 characters. The job id is also the capability for its public links.
JOB_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_job_id() -> str:
    """A fresh job id (`JOB_ID_PATTERN`)."""
    return secrets.token_urlsafe(16)


def result_available(expires_at: datetime | None, now: datetime) -> bool:
    """The one rule (README, UC4): a result is available while `now <= result_expires_at`. For rows read
    without the whole job; `Job.result_available` also checks that cleanup has not removed the result."""
    return expires_at is not None and ensure_utc(now) <= expires_at


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_slot_id_created_at", "slot_id", "created_at"),
        Index("ix_job_status_created_at", "status", "created_at"),
        Index("ix_job_result_expires_at", "result_expires_at"),
        Index("ix_job_created_at", "created_at"),
        # The stats read a window's jobs from these alone (index-only scans), see `stats.repository`.
        Index(
            "ix_job_stats",
            *("created_at", "slot_id", "source", "provider", "status", "failure_reason", "duration_ms"),
        ),
        Index(
            "ix_job_slot_id_stats",
            *("slot_id", "created_at", "source", "provider", "status", "failure_reason", "duration_ms"),
        ),
        Index("ix_job_status_owner", "status", "owner"),
        Index("ix_job_event_id_created_at", "event_id", "created_at"),
        # A retried upload finds its original by key; at most one job per slot holds a key at a time.
        Index("uq_job_slot_id_idempotency_key", "slot_id", "idempotency_key", unique=True),
        # Cleanup pages through uncleaned results by (expiry, id); cleaned history stays out of the index.
        Index(
            "ix_job_uncleaned_expiry",
            "result_expires_at",
            "id",
            postgresql_where=text("cleaned_at IS NULL"),
            sqlite_where=text("cleaned_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("slot.id", ondelete="CASCADE"))
    # The open event the slot belonged to when the shot arrived; None for jobs outside any event.
    event_id: Mapped[str | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), nullable=True)
    source: Mapped[str] = mapped_column(String(16), default=JobSource.ingest)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.pending)
    failure_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    failure_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    fallback: Mapped[str | None] = mapped_column(String(64), nullable=True)
    provider: Mapped[str] = mapped_column(String(40))
    operation: Mapped[str] = mapped_column(String(60))
    booth_meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    client_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    input_size: Mapped[int] = mapped_column(BigInteger)
    input_type: Mapped[str] = mapped_column(String(32))
    input_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mode: Mapped[str] = mapped_column(String(8), default="sync")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    provider_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    result_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    result_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    result_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    preview_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    cleaned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The chain link that produced the result (0: the slot's primary configuration), its provider, and
    # what became of every link: [{link, provider, operation, outcome, reason, ms, key_last4}].
    result_link: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_provider: Mapped[str | None] = mapped_column(String(40), nullable=True)
    attempts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)

    def result_available(self, now: datetime) -> bool:
        """Whether the guest can still fetch the result: not removed by cleanup and `now <= result_expires_at`."""
        return self.cleaned_at is None and result_available(self.result_expires_at, now)

    @classmethod
    def result_available_at(cls, now: datetime) -> ColumnElement[bool]:
        """`result_available` as a SQL condition, for queries over many jobs."""
        return and_(cls.cleaned_at.is_(None), cls.result_expires_at >= now)
