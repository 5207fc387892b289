"""Assignments: set by reviewers, seen by the students they are for, started into a workspace.

Thin: `sandpit.review.assignments` does the work and `sandpit.review.access`
decides who sees what. An assignment the caller may not see answers 404 as
one that does not exist; a student's view never holds the hidden tests
(`tests`, with their paths and names, is None for anyone but its reviewers).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from sandpit.api.deps import Context, CurrentUser, DbSession
from sandpit.api.errors import responses
from sandpit.api.review_schemas import (
    AssignmentCreate,
    AssignmentJoin,
    AssignmentOut,
    AssignmentUpdate,
)
from sandpit.api.schemas import WorkspaceDetail
from sandpit.db.models import Assignment, User
from sandpit.errors import Forbidden
from sandpit.review import access, assignments, grades
from sandpit.review.assignments import STARTER, TEST, VISIBLE_TEST, AssignmentSpec
from sandpit.services import users

router = APIRouter(prefix="/assignments", tags=["assignments"])
# Apart from /assignments/{id}, so that no assignment id is ever mistaken for it.
joins = APIRouter(tags=["assignments"])

_NOT_FOUND = responses(404, e404="No such assignment, or one the caller may not see.")
_CSV: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "One row per student: their latest submission.",
    }
}


async def _out(db: DbSession, user: User, assignment: Assignment) -> AssignmentOut:
    reviewer = await access.reviews_assignment(db, user, assignment)
    kinds = (STARTER, VISIBLE_TEST, TEST) if reviewer else (STARTER, VISIBLE_TEST)
    found = await assignments.files(db, assignment.id, *kinds)
    owner = await users.get_user(db, assignment.owner_id)
    fields: dict[str, Any] = {
        "id": assignment.id,
        "title": assignment.title,
        "description": assignment.description,
        "owner": owner.username if owner else "",
        "due_at": assignment.due_at,
        "past_due": assignments.past_due(assignment),
        "visibility": assignment.visibility,
        "published": assignment.published,
        "release": assignment.release,
        "released": assignments.results_released(assignment),
        "hidden_tests_visibility": assignment.hidden_visibility,
        "created_at": assignment.created_at,
        "reviewer": reviewer,
        "starter": found[STARTER],
        "visible_tests": found[VISIBLE_TEST],
        "workspaces": await assignments.started_workspaces(db, user, assignment.id),
    }
    if reviewer:
        named = await assignments.people(db, assignment.id)
        fields |= {
            "tests": found[TEST],
            "join_code": assignment.join_code,
            "users": named[access.STUDENT],
            "co_reviewers": named[access.REVIEWER],
        }
    return AssignmentOut.model_validate(fields)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentOut,
    responses=responses(
        400,
        403,
        404,
        409,
        e400="A bad file path.",
        e403="The caller is a plain user.",
        e404="A username that is no one's.",
        e409="A file both a hidden test and given to students.",
    ),
)
async def create_assignment(
    body: AssignmentCreate, user: CurrentUser, db: DbSession, context: Context
) -> AssignmentOut:
    """Set an assignment (reviewers and admins). A test is worth 1 point unless marked
    `@pytest.mark.points(n)`. With visibility `code`, the answer holds the join code."""
    spec = AssignmentSpec(
        title=body.title,
        description=body.description,
        starter=body.starter,
        tests=body.tests,
        visible_tests=body.visible_tests,
        due_at=body.due_at,
        visibility=body.visibility,
        users=body.users,
        co_reviewers=body.co_reviewers,
        release=body.release,
        published=body.published,
        hidden_visibility=body.hidden_tests_visibility,
    )
    assignment = await assignments.create(db, context.settings, user, spec)
    return await _out(db, user, assignment)


@router.get("", response_model=list[AssignmentOut])
async def list_assignments(user: CurrentUser, db: DbSession) -> list[AssignmentOut]:
    """The assignments the caller may see, newest first (a student's: published ones for them)."""
    return [await _out(db, user, a) for a in await assignments.visible(db, user)]


@joins.post("/assignment-joins", response_model=AssignmentOut, responses=_NOT_FOUND)
async def join_assignment(body: AssignmentJoin, user: CurrentUser, db: DbSession) -> AssignmentOut:
    """See an assignment whose visibility is `code`, by its join code."""
    return await _out(db, user, await assignments.join(db, user, body.code))


@router.get("/{assignment_id}", response_model=AssignmentOut, responses=_NOT_FOUND)
async def get_assignment(assignment_id: str, user: CurrentUser, db: DbSession) -> AssignmentOut:
    return await _out(db, user, await assignments.get_visible(db, user, assignment_id))


@router.patch(
    "/{assignment_id}",
    response_model=AssignmentOut,
    responses=_NOT_FOUND,
)
async def update_assignment(
    assignment_id: str, body: AssignmentUpdate, user: CurrentUser, db: DbSession
) -> AssignmentOut:
    """Change an assignment's settings, or release its results (its reviewers only)."""
    assignment = await assignments.get_reviewed(db, user, assignment_id)
    await assignments.update(
        db,
        assignment,
        title=body.title,
        description=body.description,
        due_at=body.due_at,
        clear_due_at=body.clear_due_at,
        published=body.published,
        release=body.release,
        released=body.released,
    )
    return await _out(db, user, assignment)


@router.delete(
    "/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(
        403,
        404,
        e403="A co-reviewer: only its owner or an admin deletes it.",
        e404="No such assignment.",
    ),
)
async def delete_assignment(
    assignment_id: str, user: CurrentUser, db: DbSession, context: Context
) -> Response:
    """Delete an assignment with its submissions, reviews and comments."""
    assignment = await assignments.get_reviewed(db, user, assignment_id)
    if assignment.owner_id != user.id and not access.is_admin(user):
        raise Forbidden("Only the assignment's owner or an administrator may delete it.")
    await assignments.delete_assignment(db, assignment)
    # The submissions' contents go once nothing else refers to them.
    await context.history.collect()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{assignment_id}/start",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkspaceDetail,
    responses={
        **_NOT_FOUND,
        **responses(
            409, 413, e409="The caller has all the workspaces allowed.", e413="Over the quota."
        ),
    },
)
async def start_assignment(
    assignment_id: str, user: CurrentUser, db: DbSession, context: Context
) -> WorkspaceDetail:
    """A new workspace of the caller's holding the starter files and the visible tests."""
    assignment = await assignments.get_visible(db, user, assignment_id)
    workspace = await assignments.start(db, context.settings, context.history, user, assignment)
    return WorkspaceDetail.model_validate(workspace)


@router.get(
    "/{assignment_id}/grades.csv",
    response_class=Response,
    responses={
        **_CSV,
        **responses(404, e404="No such assignment, or the caller does not review it."),
    },
)
async def grades_csv(assignment_id: str, user: CurrentUser, db: DbSession) -> Response:
    """Each student's latest submission: version, time, late, status, automated and review
    scores (its reviewers only)."""
    assignment = await assignments.get_reviewed(db, user, assignment_id)
    table = await grades.table(db, assignment)
    return Response(
        grades.to_csv(table),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="grades-{assignment.id}.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
