"""Cluster membership (`cluster_node`) and concurrency leases (`permit_lease`) for multi-node PostgreSQL.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from photochanger.core.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_node",
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_cluster_node")),
    )
    op.create_table(
        "permit_lease",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("slot_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner"],
            ["cluster_node.owner"],
            name=op.f("fk_permit_lease_owner_cluster_node"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permit_lease")),
    )
    op.create_index("ix_permit_lease_owner", "permit_lease", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_permit_lease_owner", table_name="permit_lease")
    op.drop_table("permit_lease")
    op.drop_table("cluster_node")
