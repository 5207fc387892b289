"""Run transcripts: the order a run's output came in, and the input typed into it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: runs recorded before keep their output, shown stream by stream.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("segments", sa.Text(), nullable=True))
        batch.add_column(sa.Column("typed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("typed")
        batch.drop_column("segments")
