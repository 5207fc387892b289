"""Runs record which way Python started: forked from the warm interpreter, or fresh.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: runs recorded before say nothing about it.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("interpreter", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("interpreter_note", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("interpreter_note")
        batch.drop_column("interpreter")
