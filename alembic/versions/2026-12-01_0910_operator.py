"""Booth refusals: uploads refused before their job existed, listed and counted in the admin; and the
first admin's generated password that must be replaced at first sign-in.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "booth_refusal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("slot_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("booth_name", sa.String(length=120), nullable=True),
        sa.Column("booth_user", sa.String(length=120), nullable=True),
        sa.Column("booth_version", sa.String(length=40), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booth_refusal")),
    )
    op.create_index("ix_booth_refusal_slot_id_created_at", "booth_refusal", ["slot_id", "created_at"])
    op.create_index("ix_booth_refusal_created_at", "booth_refusal", ["created_at"])
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("must_change_password")
    op.drop_index("ix_booth_refusal_created_at", table_name="booth_refusal")
    op.drop_index("ix_booth_refusal_slot_id_created_at", table_name="booth_refusal")
    op.drop_table("booth_refusal")
