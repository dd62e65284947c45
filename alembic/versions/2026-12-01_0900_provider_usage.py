"""Provider usage and estimated cost per day, provider, key, slot and model.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_usage_daily",
        sa.Column("day", UTCDateTime(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("slot_id", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("link", sa.Integer(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "provider", "key", "slot_id", "model", "link", name=op.f("pk_provider_usage_daily")
        ),
    )
    op.create_index("ix_provider_usage_daily_day", "provider_usage_daily", ["day"])


def downgrade() -> None:
    op.drop_index("ix_provider_usage_daily_day", table_name="provider_usage_daily")
    op.drop_table("provider_usage_daily")
