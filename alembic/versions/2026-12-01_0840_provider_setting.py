"""Per-provider concurrency, default model and prices.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "provider_setting",
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        sa.Column("default_model", sa.String(length=120), nullable=True),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_provider_setting")),
    )


def downgrade() -> None:
    op.drop_table("provider_setting")
