"""Foundation: slot and app_setting, with the 15 slots seeded.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:15:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    slot = op.create_table(
        "slot",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=60), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot")),
    )
    op.create_table(
        "app_setting",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_setting")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        slot,
        [
            {
                "id": f"slot-{n:03d}",
                "display_name": f"Slot {n}",
                "provider": "local",
                "operation": "passthrough",
                "settings": {},
                "is_active": True,
                "version": 1,
                "updated_at": now,
                "updated_by": None,
            }
            for n in range(1, 16)
        ],
    )


def downgrade() -> None:
    op.drop_table("app_setting")
    op.drop_table("slot")
