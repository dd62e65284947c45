"""Async jobs: idempotency key and mode on job, webhook deliveries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("mode", sa.String(length=8), nullable=False, server_default="sync"))
        batch.create_index("uq_job_slot_id_idempotency_key", ["slot_id", "idempotency_key"], unique=True)
    with op.batch_alter_table("job") as batch:
        batch.alter_column("mode", server_default=None)
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_webhook_delivery_job_id_job"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_webhook_delivery_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index("ix_webhook_delivery_job_id", "webhook_delivery", ["job_id"])
    op.create_index("ix_webhook_delivery_slot_id_created_at", "webhook_delivery", ["slot_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_slot_id_created_at", table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_job_id", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    with op.batch_alter_table("job") as batch:
        batch.drop_index("uq_job_slot_id_idempotency_key")
        batch.drop_column("mode")
        batch.drop_column("idempotency_key")
