"""Hourly job rollups for the stats API, backfilled from the existing jobs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 06:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime
from photochanger.stats.rollup import rebuild_statements

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(extra: sa.Column[Any]) -> list[sa.Column[Any]]:
    return [
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        extra,
    ]


def upgrade() -> None:
    op.create_table(
        "job_stat_hourly",
        *_key(sa.Column("status", sa.String(length=16), nullable=False)),
        sa.Column("failure_reason", sa.String(length=64), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.Column("duration_ms_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_job_stat_hourly_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "hour",
            "slot_id",
            "source",
            "provider",
            "status",
            "failure_reason",
            name=op.f("pk_job_stat_hourly"),
        ),
    )
    op.create_index("ix_job_stat_hourly_slot_id_hour", "job_stat_hourly", ["slot_id", "hour"])
    op.create_table(
        "job_stat_hourly_duration",
        *_key(sa.Column("bucket", sa.SmallInteger(), nullable=False)),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slot.id"],
            name=op.f("fk_job_stat_hourly_duration_slot_id_slot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "hour", "slot_id", "source", "provider", "bucket", name=op.f("pk_job_stat_hourly_duration")
        ),
    )
    op.create_index(
        "ix_job_stat_hourly_duration_slot_id_hour", "job_stat_hourly_duration", ["slot_id", "hour"]
    )
    dialect = op.get_bind().dialect.name
    for statement in rebuild_statements(dialect, daily=False):
        op.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_index("ix_job_stat_hourly_duration_slot_id_hour", table_name="job_stat_hourly_duration")
    op.drop_table("job_stat_hourly_duration")
    op.drop_index("ix_job_stat_hourly_slot_id_hour", table_name="job_stat_hourly")
    op.drop_table("job_stat_hourly")
