"""Cleanup: a partial index over results not yet cleaned, ordered as cleanup pages through them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 06:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_job_uncleaned_expiry",
        "job",
        ["result_expires_at", "id"],
        postgresql_where=sa.text("cleaned_at IS NULL"),
        sqlite_where=sa.text("cleaned_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_job_uncleaned_expiry", table_name="job")
