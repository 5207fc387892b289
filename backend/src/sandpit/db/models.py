"""The tables. Ids are random UUIDs (hex), so they can't be guessed or enumerated."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
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
    # A disabled account cannot sign in, and its tokens stop working (issue 12).
    disabled: Mapped[bool] = mapped_column(default=False)

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
    # Bytes the record and its plots take, counted against the workspace's run
    # storage (`RUN_STORAGE_BYTES`); 0 while it runs.
    stored_bytes: Mapped[int] = mapped_column(default=0)
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


class Invitation(Base):
    """A code that lets its holder create an account while sign-up is closed.

    Only the code's SHA-256 is stored: the database never holds a usable code.
    """

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The role the accounts made with it get.
    role: Mapped[str] = mapped_column(String(16), default=Role.USER.value)
    uses_left: Mapped[int] = mapped_column(default=1)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- History and snapshots (see `sandpit.history`) ----------------------------


class HistoryBlob(Base):
    """One stored content, named by its SHA-256; the bytes are a file under `DATA_DIR/blobs`.

    Shared by every version and snapshot that holds the same bytes; removed
    by `sandpit.history.blobs` once nothing refers to it.
    """

    __tablename__ = "history_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileVersion(Base):
    """One recorded state of one file of a workspace (`source`: who changed it)."""

    __tablename__ = "file_versions"
    __table_args__ = (Index("ix_file_versions_workspace_path", "workspace_id", "path"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column()
    # editor | api | sandbox | restore | import
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a coalesced version last took new content (equal to created_at at first).
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Snapshot(Base):
    """A frozen state of a whole workspace: a label and a manifest (`SnapshotFile`s).

    `automatic` snapshots (made before a restore or an import) may be evicted
    when the owner's history quota is reached; named ones never silently.
    """

    __tablename__ = "snapshots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    automatic: Mapped[bool] = mapped_column(default=False)
    files: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SnapshotFile(Base):
    """One file of a snapshot's manifest."""

    __tablename__ = "snapshot_files"

    snapshot_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column()


# --- Assignments, submissions and reviews (see `sandpit.review`) ---------------


class Assignment(Base):
    """An exercise set by a reviewer (files: `AssignmentFile`; people: `AssignmentMember`).

    `visibility`: `everyone` (every signed-in user), `users` (the listed
    members), `code` (whoever joined with `join_code`). `release`: when
    results and grades reach students: `immediately`, `after_due_date`, or
    `manual` (once a reviewer sets `released`).
    """

    __tablename__ = "assignments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="everyone")
    join_code: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    published: Mapped[bool] = mapped_column(default=True)
    release: Mapped[str] = mapped_column(String(16), default="immediately")
    released: Mapped[bool] = mapped_column(default=False)
    # How the hidden tests' results show to students (`sandpit.grading.visibility`):
    # `hidden` (a count and a score only, ever), `after_due_date`, `after_published`.
    hidden_visibility: Mapped[str] = mapped_column(String(16), default="hidden")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AssignmentFile(Base):
    """A file of an assignment: `starter` (a student's workspace starts with it),
    `test` (hidden tests: never shown to a student) or `visible_test` (given
    to students too, and run by the checks)."""

    __tablename__ = "assignment_files"

    assignment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    content: Mapped[str] = mapped_column(Text)


class AssignmentMember(Base):
    """A person named by an assignment: a co-`reviewer`, or a `student` allowed to see
    it (listed, or joined with its code)."""

    __tablename__ = "assignment_members"

    assignment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))


class AssignmentStart(Base):
    """A workspace made by "Start" from an assignment: what its Submit submits to."""

    __tablename__ = "assignment_starts"

    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    assignment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("assignments.id", ondelete="CASCADE"), index=True
    )


class Submission(Base):
    """One frozen version of a user's work: to an assignment, or a review request naming
    a reviewer. Never changes after it is made, but for `status` (which follows
    the latest review). Outlives its workspace: the files are `SubmissionFile`s
    in the blob store, and the workspace reference is cleared when it goes.

    `series` groups the versions (``a:<assignment>`` or ``w:<workspace>``);
    `version` counts 1, 2, 3… within a user's series.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "series", "version", name="uq_submission_version"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="SET NULL"), default=None, index=True
    )
    assignment_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("assignments.id", ondelete="CASCADE"), default=None, index=True
    )
    reviewer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    series: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column()
    message: Mapped[str] = mapped_column(String(2000), default="")
    # submitted | commented | changes_requested | approved
    status: Mapped[str] = mapped_column(String(24), default="submitted")
    late: Mapped[bool] = mapped_column(default=False)
    files: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SubmissionFile(Base):
    """One file of a submission; its content is a blob (`HistoryBlob`), which the blob
    store's collection keeps while any submission refers to it."""

    __tablename__ = "submission_files"

    submission_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column()


class Check(Base):
    """The automated checks of one submission: a row of the persistent check queue.

    `pending` → `running` → `done` | `error`; a `running` check found at start-up
    (the server stopped mid-check) goes back to `pending`. `id` is the queue order.
    """

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("submissions.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # The grader's result (`sandpit.grading.results.CheckResult.to_json()`), as JSON text.
    result: Mapped[str | None] = mapped_column(Text, default=None)
    message: Mapped[str | None] = mapped_column(String(500), default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Review(Base):
    """A reviewer's verdict on one submission (one version): state, summary, optional score."""

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    reviewer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    state: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A comment on a line (or lines `line`..`end_line`) of a file of one submission;
    a reply names the comment it answers (`reply_to`) and shares its place."""

    __tablename__ = "comments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    submission_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    path: Mapped[str] = mapped_column(String(1024))
    line: Mapped[int] = mapped_column()
    end_line: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text)
    reply_to: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("comments.id", ondelete="CASCADE"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReadMarker(Base):
    """How far a user has read a submission's comments and reviews: what came after is unread."""

    __tablename__ = "read_markers"

    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
