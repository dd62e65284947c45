"""Duration rollups summed over slots (hourly and daily) for the overview's percentiles, backfilled from the
per-slot ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime
from photochanger.stats.rollup import rebuild_overall_statements

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create(table: str, time_column: str) -> None:
    op.create_table(
        table,
        sa.Column(time_column, UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("jobs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(time_column, "source", "provider", "bucket", name=op.f(f"pk_{table}")),
    )


def upgrade() -> None:
    _create("job_stat_hourly_duration_all", "hour")
    _create("job_stat_daily_duration_all", "day")
    for statement in rebuild_overall_statements():
        op.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_table("job_stat_daily_duration_all")
    op.drop_table("job_stat_hourly_duration_all")
