"""Submissions: a workspace frozen as version 1, 2, 3… of a user's work.

A submission goes to an assignment (its series is the user's submissions to
that assignment) or is a review request naming a reviewer (its series is
the workspace's). Its files are stored in the history blob store and listed
by `SubmissionFile` rows, which the store's collection counts: deleting the
workspace, its history or its snapshots leaves the submission whole.
Nothing changes a submission afterwards but its `status`, which follows the
latest review (`feedback`). Each submission gets a `pending` check at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.config import Settings
from sandpit.db.models import (
    Assignment,
    Check,
    Submission,
    SubmissionFile,
    User,
    Workspace,
)
from sandpit.errors import Conflict, NotFound, RateLimited
from sandpit.history.rows import Stored
from sandpit.history.service import HistoryService
from sandpit.review import access, assignments
from sandpit.security.ratelimit import RateLimiter
from sandpit.services import users

MESSAGE_MAX = 2000
STATUSES = ("submitted", "commented", "changes_requested", "approved")
_VERSION_TRIES = 5


@dataclass(frozen=True)
class Target:
    """Where a submission goes: an assignment, a named reviewer, or both."""

    assignment: Assignment | None
    reviewer: User | None


def series_of(target: Target, workspace_id: str) -> str:
    return f"a:{target.assignment.id}" if target.assignment else f"w:{workspace_id}"


async def resolve_target(
    db: AsyncSession,
    user: User,
    workspace: Workspace,
    assignment_id: str | None,
    reviewer: str | None,
) -> Target:
    """The assignment and/or reviewer a submission goes to.

    Without an assignment, the one the workspace was started from, if any.
    With a reviewer and an assignment, the reviewer must review it. Raises
    `NotFound` for an assignment the user may not see or a name that is not
    a (fitting) reviewer's, `Conflict` when nothing is named and the
    workspace was not started from an assignment, or the reviewer named is
    the user.
    """
    named: User | None = None
    if reviewer is not None:
        named = await users.get_by_name(db, reviewer)
        if named is None or not access.is_staff(named) or named.disabled:
            raise NotFound(f"There is no reviewer named {reviewer!r}.")
        if named.id == user.id:
            raise Conflict("You cannot ask yourself for a review.")
    if assignment_id is None and named is None:
        assignment_id = await assignments.assignment_of_workspace(db, workspace.id)
        if assignment_id is None:
            raise Conflict(
                "This workspace was not started from an assignment: name the assignment "
                "or a reviewer to ask."
            )
    assignment = await assignments.get_visible(db, user, assignment_id) if assignment_id else None
    if (
        assignment is not None
        and named is not None
        and not await access.reviews_assignment(db, named, assignment)
    ):
        raise NotFound(f"{reviewer!r} does not review this assignment.")
    return Target(assignment, named)


async def submit(
    db: AsyncSession,
    settings: Settings,
    history: HistoryService,
    limiter: RateLimiter,
    user: User,
    workspace: Workspace,
    target: Target,
    message: str,
) -> Submission:
    """Freeze the workspace's kept files as the next version of the user's series and
    queue its check. Raises `RateLimited` past `SUBMISSIONS_PER_MINUTE`, `NotFound`
    if the workspace's folder is gone."""
    wait = limiter.hit(f"submissions:{user.id}", settings.submissions_per_minute, 60)
    if wait:
        raise RateLimited(
            f"You may submit {settings.submissions_per_minute} times a minute; "
            f"try again in {int(wait) + 1} s.",
            int(wait) + 1,
        )
    series = series_of(target, workspace.id)
    assignment = target.assignment
    now = datetime.now(UTC)

    async def attach(session: AsyncSession, stored: list[Stored]) -> str:
        for _ in range(_VERSION_TRIES):
            latest = await session.scalar(
                select(func.max(Submission.version)).where(
                    Submission.user_id == user.id, Submission.series == series
                )
            )
            made = Submission(
                user_id=user.id,
                workspace_id=workspace.id,
                assignment_id=assignment.id if assignment else None,
                reviewer_id=target.reviewer.id if target.reviewer else None,
                series=series,
                version=(latest or 0) + 1,
                message=message[:MESSAGE_MAX],
                status="submitted",
                late=assignment is not None and assignments.past_due(assignment, now),
                files=len(stored),
                bytes=sum(s.size for s in stored),
                created_at=now,
            )
            session.add(made)
            try:
                await session.flush()
            except IntegrityError:
                await session.rollback()  # another submit took this version number
                continue
            session.add_all(
                SubmissionFile(submission_id=made.id, path=s.path, sha256=s.sha256, size=s.size)
                for s in stored
            )
            session.add(Check(submission_id=made.id, status="pending", queued_at=now))
            await session.commit()
            return made.id
        raise Conflict("Too many submissions at once; please submit again.")

    async with history.lock(workspace.id):
        submission_id = await history.freeze(workspace.id, attach)
    found = await db.get(Submission, submission_id)
    if found is None:  # pragma: no cover - just committed
        raise NotFound("There is no such submission.")
    return found


async def file_list(db: AsyncSession, submission_id: str) -> list[SubmissionFile]:
    rows = await db.scalars(
        select(SubmissionFile)
        .where(SubmissionFile.submission_id == submission_id)
        .order_by(SubmissionFile.path)
    )
    return list(rows)


async def file(db: AsyncSession, submission_id: str, path: str) -> SubmissionFile:
    found = await db.get(SubmissionFile, (submission_id, path))
    if found is None:
        raise NotFound(f"'{path}' is not in this submission.")
    return found


async def contents(
    db: AsyncSession, history: HistoryService, submission_id: str
) -> dict[str, bytes]:
    """Every file of the submission: path -> bytes."""
    return {f.path: await history.content(f.sha256) for f in await file_list(db, submission_id)}


@dataclass(frozen=True)
class Filters:
    """What `GET /api/submissions` narrows to."""

    assignment_id: str | None = None
    status: str | None = None
    workspace_id: str | None = None
    late: bool | None = None
    scope: str | None = None  # "own": the caller's; "review": others' they review
    latest: bool = False  # only each series' newest version
    order: str = "asc"  # by submission time


async def listing(
    db: AsyncSession, user: User, filters: Filters, limit: int, offset: int = 0
) -> list[Submission]:
    """The submissions `user` may see that match `filters` (see `access`)."""
    query = select(Submission).where(access.visible_submissions(user))
    if filters.scope == "own":
        query = query.where(Submission.user_id == user.id)
    elif filters.scope == "review":
        query = query.where(Submission.user_id != user.id)
    if filters.assignment_id is not None:
        query = query.where(Submission.assignment_id == filters.assignment_id)
    if filters.status is not None:
        query = query.where(Submission.status == filters.status)
    if filters.workspace_id is not None:
        query = query.where(Submission.workspace_id == filters.workspace_id)
    if filters.late is not None:
        query = query.where(Submission.late.is_(filters.late))
    if filters.latest:
        newest = (
            select(Submission.user_id, Submission.series, func.max(Submission.version).label("v"))
            .group_by(Submission.user_id, Submission.series)
            .subquery()
        )
        query = query.join(
            newest,
            (newest.c.user_id == Submission.user_id)
            & (newest.c.series == Submission.series)
            & (newest.c.v == Submission.version),
        )
    by_time = Submission.created_at.desc() if filters.order == "desc" else Submission.created_at
    query = query.order_by(by_time, Submission.id).offset(offset).limit(limit)
    return list(await db.scalars(query))


async def newest_versions(
    db: AsyncSession, submissions: Sequence[Submission]
) -> dict[tuple[str, str], int]:
    """The newest version of each (user, series) among `submissions`' series."""
    series = sorted({s.series for s in submissions})
    found: dict[tuple[str, str], int] = {}
    for start in range(0, len(series), 500):
        rows = await db.execute(
            select(Submission.user_id, Submission.series, func.max(Submission.version))
            .where(Submission.series.in_(series[start : start + 500]))
            .group_by(Submission.user_id, Submission.series)
        )
        for user_id, name, newest in rows:
            found[(user_id, name)] = int(newest)
    return found


async def previous_version(db: AsyncSession, submission: Submission) -> str | None:
    """The id of the version just before this one in its series, if any."""
    found: str | None = await db.scalar(
        select(Submission.id).where(
            Submission.user_id == submission.user_id,
            Submission.series == submission.series,
            Submission.version == submission.version - 1,
        )
    )
    return found
