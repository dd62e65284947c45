"""Daily job rollups for the stats API (backfilled from the hourly ones), and covering indexes on `job` for
the raw rows the stats read at a window's edges.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 06:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime
from photochanger.stats.rollup import rebuild_daily_statements

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATS = ("source", "provider", "status", "failure_reason", "duration_ms")


def _key(extra: sa.Column[Any]) -> list[sa.Column[Any]]:
    return [
        sa.Column("day", UTCDateTime(), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        extra,
    ]


def upgrade() -> None:
    op.create_table(
        "job_stat_daily",
        *_key(sa.Column("status", sa.String(length=16), nullable=False)),
        sa.Column("failure_reason", sa.String(length=64), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("duration_ms_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_job_stat_daily_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "day",
            "slot_id",
            "source",
            "provider",
            "status",
            "failure_reason",
            name=op.f("pk_job_stat_daily"),
        ),
    )
    op.create_index("ix_job_stat_daily_slot_id_day", "job_stat_daily", ["slot_id", "day"])
    op.create_table(
        "job_stat_daily_duration",
        *_key(sa.Column("bucket", sa.SmallInteger(), nullable=False)),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slot.id"],
            name=op.f("fk_job_stat_daily_duration_slot_id_slot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "day", "slot_id", "source", "provider", "bucket", name=op.f("pk_job_stat_daily_duration")
        ),
    )
    op.create_index("ix_job_stat_daily_duration_slot_id_day", "job_stat_daily_duration", ["slot_id", "day"])
    op.create_index("ix_job_stats", "job", ["created_at", "slot_id", *_STATS])
    op.create_index("ix_job_slot_id_stats", "job", ["slot_id", "created_at", *_STATS])
    for statement in rebuild_daily_statements(op.get_bind().dialect.name):
        op.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_index("ix_job_slot_id_stats", table_name="job")
    op.drop_index("ix_job_stats", table_name="job")
    op.drop_index("ix_job_stat_daily_duration_slot_id_day", table_name="job_stat_daily_duration")
    op.drop_table("job_stat_daily_duration")
    op.drop_index("ix_job_stat_daily_slot_id_day", table_name="job_stat_daily")
    op.drop_table("job_stat_daily")
