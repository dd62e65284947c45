"""Events: the event table, the slots each uses, per-photo state, engagement counters, and `job.event_id`.

Existing jobs get NULL (no event) and keep their behaviour.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("retain_until", UTCDateTime(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("logo_media_id", sa.String(length=36), nullable=True),
        sa.Column("primary_color", sa.String(length=7), nullable=False),
        sa.Column("accent_color", sa.String(length=7), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("gallery_open", sa.Boolean(), nullable=False),
        sa.Column("gallery_token", sa.String(length=64), nullable=True),
        sa.Column("slot_configs", sa.JSON(), nullable=False),
        sa.Column("source_event_id", sa.String(length=32), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["logo_media_id"],
            ["media_object.id"],
            name=op.f("fk_event_logo_media_id_media_object"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("gallery_token", name=op.f("uq_event_gallery_token")),
    )
    op.create_index("ix_event_retain_until", "event", ["retain_until"])
    op.create_index("ix_event_created_at", "event", ["created_at"])
    op.create_table(
        "event_slot",
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.String(length=16), nullable=False),
        sa.Column("keep_originals", sa.Boolean(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_slot_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["slot.id"], name=op.f("fk_event_slot_slot_id_slot"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "slot_id", name=op.f("pk_event_slot")),
    )
    op.create_index(
        "uq_event_slot_open_slot_id",
        "event_slot",
        ["slot_id"],
        unique=True,
        postgresql_where=sa.text("open"),
        sqlite_where=sa.text("open"),
    )
    op.create_table(
        "event_photo",
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("hidden_at", UTCDateTime(), nullable=True),
        sa.Column("original_path", sa.String(length=255), nullable=True),
        sa.Column("original_size", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_photo_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_event_photo_job_id_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_event_photo")),
    )
    op.create_index("ix_event_photo_event_id", "event_photo", ["event_id"])
    op.create_table(
        "event_engagement",
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_engagement_event_id_event"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id", "hour", "metric", name=op.f("pk_event_engagement")),
    )
    # Batch mode: SQLite cannot add a foreign key to an existing table, so alembic rebuilds `job` there.
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("event_id", sa.String(length=32), nullable=True))
        batch.create_foreign_key(
            op.f("fk_job_event_id_event"), "event", ["event_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_job_event_id_created_at", ["event_id", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_index("ix_job_event_id_created_at")
        batch.drop_constraint(op.f("fk_job_event_id_event"), type_="foreignkey")
        batch.drop_column("event_id")
    op.drop_table("event_engagement")
    op.drop_index("ix_event_photo_event_id", table_name="event_photo")
    op.drop_table("event_photo")
    op.drop_index("uq_event_slot_open_slot_id", table_name="event_slot")
    op.drop_table("event_slot")
    op.drop_index("ix_event_created_at", table_name="event")
    op.drop_index("ix_event_retain_until", table_name="event")
    op.drop_table("event")
