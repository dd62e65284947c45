"""Ingest: the job table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=64), nullable=True),
        sa.Column("failure_detail", sa.Text(), nullable=True),
        sa.Column("fallback", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=60), nullable=False),
        sa.Column("booth_meta", sa.JSON(), nullable=False),
        sa.Column("client_hash", sa.String(length=128), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("input_size", sa.BigInteger(), nullable=False),
        sa.Column("input_type", sa.String(length=32), nullable=False),
        sa.Column("input_path", sa.String(length=255), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("provider_ms", sa.Integer(), nullable=True),
        sa.Column("result_path", sa.String(length=255), nullable=True),
        sa.Column("result_type", sa.String(length=32), nullable=True),
        sa.Column("result_size", sa.BigInteger(), nullable=True),
        sa.Column("result_expires_at", UTCDateTime(), nullable=True),
        sa.Column("preview_path", sa.String(length=255), nullable=True),
        sa.Column("cleaned_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_job_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_created_at", "job", ["created_at"])
    op.create_index("ix_job_result_expires_at", "job", ["result_expires_at"])
    op.create_index("ix_job_slot_id_created_at", "job", ["slot_id", "created_at"])
    op.create_index("ix_job_status_created_at", "job", ["status", "created_at"])
    op.create_index("ix_job_status_owner", "job", ["status", "owner"])


def downgrade() -> None:
    op.drop_index("ix_job_status_owner", table_name="job")
    op.drop_index("ix_job_status_created_at", table_name="job")
    op.drop_index("ix_job_slot_id_created_at", table_name="job")
    op.drop_index("ix_job_result_expires_at", table_name="job")
    op.drop_index("ix_job_created_at", table_name="job")
    op.drop_table("job")
