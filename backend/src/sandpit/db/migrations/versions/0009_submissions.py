"""Assignments, submissions (frozen in the blob store), their checks, reviews and comments.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id(name: str = "id") -> sa.Column[str]:
    return sa.Column(name, sa.String(32), primary_key=True)


def _ref(
    name: str,
    table: str,
    *,
    ondelete: str,
    nullable: bool = False,
    primary_key: bool = False,
    unique: bool = False,
) -> sa.Column[str]:
    """A column holding another table's id."""
    return sa.Column(
        name,
        sa.String(32),
        sa.ForeignKey(f"{table}.id", ondelete=ondelete),
        nullable=nullable,
        primary_key=primary_key,
        unique=unique,
    )


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "assignments",
        _id(),
        _ref("owner_id", "users", ondelete="CASCADE"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _at("due_at", nullable=True),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("join_code", sa.String(32), nullable=True, unique=True),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("release", sa.String(16), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.Column("hidden_visibility", sa.String(16), nullable=False),
        _at("created_at"),
    )
    op.create_index("ix_assignments_owner_id", "assignments", ["owner_id"])
    op.create_table(
        "assignment_files",
        _ref("assignment_id", "assignments", ondelete="CASCADE", primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
    )
    op.create_table(
        "assignment_members",
        _ref("assignment_id", "assignments", ondelete="CASCADE", primary_key=True),
        _ref("user_id", "users", ondelete="CASCADE", primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_index("ix_assignment_members_user_id", "assignment_members", ["user_id"])
    op.create_table(
        "assignment_starts",
        _ref("workspace_id", "workspaces", ondelete="CASCADE", primary_key=True),
        _ref("assignment_id", "assignments", ondelete="CASCADE"),
    )
    op.create_index("ix_assignment_starts_assignment_id", "assignment_starts", ["assignment_id"])
    op.create_table(
        "submissions",
        _id(),
        _ref("user_id", "users", ondelete="CASCADE"),
        _ref("workspace_id", "workspaces", ondelete="SET NULL", nullable=True),
        _ref("assignment_id", "assignments", ondelete="CASCADE", nullable=True),
        _ref("reviewer_id", "users", ondelete="SET NULL", nullable=True),
        sa.Column("series", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        _at("created_at"),
        sa.UniqueConstraint("user_id", "series", "version", name="uq_submission_version"),
    )
    for column in ("user_id", "workspace_id", "assignment_id", "reviewer_id"):
        op.create_index(f"ix_submissions_{column}", "submissions", [column])
    op.create_table(
        "submission_files",
        _ref("submission_id", "submissions", ondelete="CASCADE", primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
    )
    op.create_index("ix_submission_files_sha256", "submission_files", ["sha256"])
    op.create_table(
        "checks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _ref("submission_id", "submissions", ondelete="CASCADE", unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("queued_at"),
        _at("started_at", nullable=True),
        _at("finished_at", nullable=True),
    )
    op.create_index("ix_checks_status", "checks", ["status"])
    op.create_table(
        "reviews",
        _id(),
        _ref("submission_id", "submissions", ondelete="CASCADE"),
        _ref("reviewer_id", "users", ondelete="SET NULL", nullable=True),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        _at("created_at"),
    )
    op.create_index("ix_reviews_submission_id", "reviews", ["submission_id"])
    op.create_table(
        "comments",
        _id(),
        _ref("submission_id", "submissions", ondelete="CASCADE"),
        _ref("author_id", "users", ondelete="SET NULL", nullable=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("end_line", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _ref("reply_to", "comments", ondelete="CASCADE", nullable=True),
        _at("created_at"),
    )
    op.create_index("ix_comments_submission_id", "comments", ["submission_id"])
    op.create_table(
        "read_markers",
        _ref("user_id", "users", ondelete="CASCADE", primary_key=True),
        _ref("submission_id", "submissions", ondelete="CASCADE", primary_key=True),
        _at("read_at"),
    )


def downgrade() -> None:
    for table in (
        "read_markers",
        "comments",
        "reviews",
        "checks",
        "submission_files",
        "submissions",
        "assignment_starts",
        "assignment_members",
        "assignment_files",
        "assignments",
    ):
        op.drop_table(table)
