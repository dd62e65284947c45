"""Hidden results (a guest asked: off every guest surface, still in the admin, can come back) and guest
page opens and downloads per slot and UTC hour, for every slot whether in an event or not.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("hidden_at", UTCDateTime(), nullable=True))
    op.create_table(
        "slot_engagement",
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_slot_engagement_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("slot_id", "hour", "metric", name=op.f("pk_slot_engagement")),
    )
    op.create_index("ix_slot_engagement_hour", "slot_engagement", ["hour"])


def downgrade() -> None:
    op.drop_index("ix_slot_engagement_hour", table_name="slot_engagement")
    op.drop_table("slot_engagement")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("hidden_at")
