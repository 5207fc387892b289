"""Grades: per assignment, each student's latest submission and its scores, and its CSV.

The automated score is the whole one (hidden tests included): the table is
for the assignment's reviewers only. The review score is the latest review's
that has one.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Assignment, Check, Review, Submission, User

COLUMNS = (
    "username",
    "version",
    "submitted_at",
    "late",
    "status",
    "checks",
    "automated_score",
    "max_score",
    "review_score",
)


@dataclass(frozen=True)
class GradeRow:
    username: str
    submission_id: str
    version: int
    submitted_at: datetime
    late: bool
    status: str
    checks: str
    automated_score: float | None
    max_score: float | None
    review_score: float | None


def scores_of(check: Check | None) -> tuple[float | None, float | None]:
    """The whole automated score and maximum of a finished check (None otherwise)."""
    if check is None or check.result is None:
        return None, None
    try:
        result = json.loads(check.result)
        return float(result["score"]), float(result["max_score"])
    except (ValueError, KeyError, TypeError):
        return None, None


async def review_scores(db: AsyncSession, submission_ids: list[str]) -> dict[str, float]:
    """The latest review score of each submission that has one."""
    found: dict[str, float] = {}
    for start in range(0, len(submission_ids), 500):
        rows = await db.execute(
            select(Review.submission_id, Review.score)
            .where(
                Review.submission_id.in_(submission_ids[start : start + 500]),
                Review.score.is_not(None),
            )
            .order_by(Review.created_at)
        )
        for submission_id, score in rows.tuples():
            if score is not None:
                found[submission_id] = score  # later rows overwrite earlier ones
    return found


async def table(db: AsyncSession, assignment: Assignment) -> list[GradeRow]:
    """One row per student who submitted, for their latest version, by username."""
    newest = (
        select(Submission.user_id, func.max(Submission.version).label("v"))
        .where(Submission.assignment_id == assignment.id)
        .group_by(Submission.user_id)
        .subquery()
    )
    rows = (
        await db.execute(
            select(Submission, User.username, Check)
            .join(
                newest,
                (newest.c.user_id == Submission.user_id) & (newest.c.v == Submission.version),
            )
            .join(User, User.id == Submission.user_id)
            .outerjoin(Check, Check.submission_id == Submission.id)
            .where(Submission.assignment_id == assignment.id)
            .order_by(User.username)
        )
    ).tuples()
    found = list(rows)
    reviewed = await review_scores(db, [s.id for s, _, _ in found])
    table: list[GradeRow] = []
    for submission, username, check in found:
        score, max_score = scores_of(check)
        table.append(
            GradeRow(
                username=username,
                submission_id=submission.id,
                version=submission.version,
                submitted_at=submission.created_at,
                late=submission.late,
                status=submission.status,
                checks=check.status if check else "pending",
                automated_score=score,
                max_score=max_score,
                review_score=reviewed.get(submission.id),
            )
        )
    return table


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return (
        "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text
    )


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(rows: list[GradeRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            _cell(value)
            for value in (
                row.username,
                row.version,
                row.submitted_at.isoformat().replace("+00:00", "Z"),
                "yes" if row.late else "no",
                row.status,
                row.checks,
                row.automated_score,
                row.max_score,
                row.review_score,
            )
        )
    return out.getvalue()
