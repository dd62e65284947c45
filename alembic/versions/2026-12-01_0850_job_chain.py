"""Which link of a slot's fallback chain produced a job's result, and what became of every link.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 08:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("result_link", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("result_provider", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("attempts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("attempts")
        batch.drop_column("result_provider")
        batch.drop_column("result_link")
