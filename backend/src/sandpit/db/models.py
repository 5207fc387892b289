"""The tables. Ids are random UUIDs (hex), so they can't be guessed or enumerated."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from sandpit.db.types import UTCDateTime


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # Every point in time is stored in UTC and read back aware (`UTCDateTime`).
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Role(enum.StrEnum):
    """What a user may do beyond their own workspaces."""

    USER = "user"
    REVIEWER = "reviewer"  # reads submitted work of others and comments on it
    ADMIN = "admin"  # manages users, sees logs and metrics


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    workspaces: Mapped[list[Workspace]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )


class Workspace(Base):
    """A saved coding session: its files live in `DATA_DIR/workspaces/<id>`."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_workspace_owner_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_opened_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the IDE restores when the workspace is opened again: open tabs,
    # the active file, panel sizes. Opaque to the server beyond a size cap.
    ui_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    owner: Mapped[User] = relationship(back_populates="workspaces")


class Run(Base):
    """One execution of a file or a code string in a workspace's sandbox."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    # What ran: a workspace path, or None for a code string.
    path: Mapped[str | None] = mapped_column(String(1024), default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")
    exit_code: Mapped[int | None] = mapped_column(default=None)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    truncated: Mapped[bool] = mapped_column(default=False)
    duration_ms: Mapped[int | None] = mapped_column(default=None)
    images: Mapped[int] = mapped_column(default=0)
    # Why it ended, when a limit or the user ended it.
    message: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # The order its output came in (`sandpit.runs.transcript`, JSON) and the
    # input typed into it; None for runs recorded before these were kept.
    segments: Mapped[str | None] = mapped_column(Text, default=None)
    typed: Mapped[str | None] = mapped_column(Text, default=None)
    # Which way Python started ("warm", "fresh"; None: unknown) and why fresh
    # (`sandpit.runs.interpreter`).
    interpreter: Mapped[str | None] = mapped_column(String(8), default=None)
    interpreter_note: Mapped[str | None] = mapped_column(String(400), default=None)


class CommandLogEntry(Base):
    """A command line submitted in a terminal (see `sandpit.terminals.commandlog`).

    No foreign keys: an audit trail outlives the users, workspaces and
    terminals it names; its size is capped by pruning the oldest rows.
    """

    __tablename__ = "command_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    workspace_id: Mapped[str] = mapped_column(String(32), index=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(String(1000))
    # Commands of this user before this one that were not recorded (rate limit).
    skipped_before: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
