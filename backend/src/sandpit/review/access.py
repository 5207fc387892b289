"""Who may see and do what with assignments and submissions (issue 14, item 7).

- An assignment is *reviewed* by its owner, its co-reviewers and every
  admin; it is *seen* by those, and, once published, by every signed-in user
  (visibility `everyone`), its listed users (`users`) or those who joined
  with its code (`code`).
- A submission is seen by its submitter, by the reviewers of its assignment,
  by the reviewer a review request names, and by admins; by nobody else:
  for them it answers `NotFound`, as one that does not exist.
- Only a reviewer of a submission who is not its submitter may review it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Assignment, AssignmentMember, Role, Submission, User
from sandpit.errors import NotFound

REVIEWER = "reviewer"
STUDENT = "student"


def is_staff(user: User) -> bool:
    """Whether the user's role lets them set assignments (reviewer or admin)."""
    return user.role in (Role.REVIEWER.value, Role.ADMIN.value)


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN.value


async def member_role(db: AsyncSession, user: User, assignment_id: str) -> str | None:
    role: str | None = await db.scalar(
        select(AssignmentMember.role).where(
            AssignmentMember.assignment_id == assignment_id, AssignmentMember.user_id == user.id
        )
    )
    return role


async def reviews_assignment(db: AsyncSession, user: User, assignment: Assignment) -> bool:
    if is_admin(user) or assignment.owner_id == user.id:
        return True
    return await member_role(db, user, assignment.id) == REVIEWER


async def sees_assignment(db: AsyncSession, user: User, assignment: Assignment) -> bool:
    if await reviews_assignment(db, user, assignment):
        return True
    if not assignment.published:
        return False
    if assignment.visibility == "everyone":
        return True
    return await member_role(db, user, assignment.id) == STUDENT


def reviewed_assignments(user: User) -> ColumnElement[bool]:
    """A WHERE clause for the assignments `user` reviews (true for an admin)."""
    if is_admin(user):
        return Assignment.id.is_not(None)
    co_reviewed = select(AssignmentMember.assignment_id).where(
        AssignmentMember.user_id == user.id, AssignmentMember.role == REVIEWER
    )
    return or_(Assignment.owner_id == user.id, Assignment.id.in_(co_reviewed))


def visible_submissions(user: User) -> ColumnElement[bool]:
    """A WHERE clause for the submissions `user` may see (own, reviewed, addressed)."""
    if is_admin(user):
        return Submission.id.is_not(None)
    reviewed = select(Assignment.id).where(reviewed_assignments(user))
    return or_(
        Submission.user_id == user.id,
        Submission.reviewer_id == user.id,
        Submission.assignment_id.in_(reviewed),
    )


@dataclass(frozen=True)
class Access:
    """A submission as the caller may see it: as its submitter, as a reviewer, or both."""

    submission: Submission
    assignment: Assignment | None
    owner: bool
    reviewer: bool


async def submission_access(db: AsyncSession, user: User, submission_id: str) -> Access:
    """The submission and the caller's part in it; `NotFound` if they may not see it."""
    submission = await db.get(Submission, submission_id)
    if submission is None:
        raise NotFound("There is no such submission.")
    assignment = (
        await db.get(Assignment, submission.assignment_id) if submission.assignment_id else None
    )
    owner = submission.user_id == user.id
    reviewer = is_admin(user) or submission.reviewer_id == user.id
    if not reviewer and assignment is not None:
        reviewer = await reviews_assignment(db, user, assignment)
    if not owner and not reviewer:
        raise NotFound("There is no such submission.")
    return Access(submission, assignment, owner, reviewer)
