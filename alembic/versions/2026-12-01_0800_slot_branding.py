"""Per-slot branding of the guest page: title, text, logo (template media), accent and background colours.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slot_branding",
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=True),
        sa.Column("text", sa.String(length=280), nullable=True),
        sa.Column("logo_media_id", sa.String(length=36), nullable=True),
        sa.Column("accent_color", sa.String(length=7), nullable=True),
        sa.Column("background_color", sa.String(length=7), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_slot_branding_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["logo_media_id"],
            ["media_object.id"],
            name=op.f("fk_slot_branding_logo_media_id_media_object"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("slot_id", name=op.f("pk_slot_branding")),
    )


def downgrade() -> None:
    op.drop_table("slot_branding")
