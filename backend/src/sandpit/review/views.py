"""What the caller may see of a submission's checks and grades (issue 14, items 5 and 7).

A reviewer of a submission sees its whole result (hidden tests, the raw
output). Its submitter sees what `sandpit.grading.visibility.view_for`
leaves: before the assignment's results are released, hidden tests only as
a count and a score, never their names or output; and review scores only
once released.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Assignment, Check
from sandpit.grading.visibility import view_for
from sandpit.review import assignments

log = logging.getLogger(__name__)

STUDENT_ERROR = "The checks could not run; a reviewer will look at it."


@dataclass(frozen=True)
class Release:
    """How far the caller's view of one submission's results goes."""

    reviewer: bool
    released: bool
    past_due: bool

    @classmethod
    def of(
        cls, assignment: Assignment | None, *, reviewer: bool, now: datetime | None = None
    ) -> Release:
        """A review request (no assignment) has no hidden tests: all of it is released."""
        if assignment is None:
            return cls(reviewer=reviewer, released=True, past_due=False)
        now = now or datetime.now(UTC)
        return cls(
            reviewer=reviewer,
            released=assignments.results_released(assignment, now),
            past_due=assignments.past_due(assignment, now),
        )

    @property
    def grades_visible(self) -> bool:
        return self.reviewer or self.released


def checks_view(
    check: Check | None, release: Release, position: int | None = None
) -> dict[str, Any]:
    """The `checks` object for the caller: the stored result with visibility applied,
    or the queue state while there is none yet; with the queue's times."""
    view = _result_view(check, release, position)
    if not release.reviewer and view.get("message"):
        # The grader's sentence may name a hidden test file ("... is not valid Python").
        view["message"] = STUDENT_ERROR
    if check is not None:
        view |= {
            "queued_at": check.queued_at,
            "started_at": check.started_at,
            "finished_at": check.finished_at,
            "attempts": check.attempts,
            "order": check.id,
        }
    return view


def _result_view(check: Check | None, release: Release, position: int | None) -> dict[str, Any]:
    if check is None or check.result is None:
        status = check.status if check is not None else "pending"
        view: dict[str, Any] = {"status": status, "tests": [], "lint": [], "notes": []}
        if status == "pending":
            view["position"] = position
        if check is not None and check.message:
            view["message"] = check.message
        return view
    try:
        stored = json.loads(check.result)
    except ValueError:
        log.error("check of submission %s holds a result that is not JSON", check.submission_id)
        return {
            "status": "error",
            "tests": [],
            "lint": [],
            "notes": [],
            "message": "Unreadable result.",
        }
    view = view_for(
        stored, reviewer=release.reviewer, released=release.released, past_due=release.past_due
    )
    view["status"] = check.status
    return view


def visible_score(check: Check | None, release: Release) -> tuple[float | None, float | None]:
    """The automated score and maximum the caller may see (None while there is none)."""
    if check is None or check.result is None:
        return None, None
    view = _result_view(check, release, None)
    score, max_score = view.get("score"), view.get("max_score")
    return (
        None if score is None else float(score),
        None if max_score is None else float(max_score),
    )


async def queue_position(db: AsyncSession, check: Check | None) -> int | None:
    """How many pending checks are ahead of this one (None unless it is pending)."""
    if check is None or check.status != "pending":
        return None
    ahead = await db.scalar(
        select(func.count())
        .select_from(Check)
        .where(Check.status == "pending", Check.id < check.id)
    )
    return int(ahead or 0)


async def checks_of(db: AsyncSession, submission_ids: list[str]) -> dict[str, Check]:
    """The check of each of these submissions (by submission id)."""
    found: dict[str, Check] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start : start + 500]
        for check in await db.scalars(select(Check).where(Check.submission_id.in_(chunk))):
            found[check.submission_id] = check
    return found
