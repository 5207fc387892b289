"""Submissions, their files and checks, reviews and line comments.

Thin: `sandpit.review` does the work. Every route under `/submissions/{id}`
goes through `review.access.submission_access`, so a submission the caller
may not see answers 404 as one that does not exist; what the caller sees of
its results is decided by `review.views` (a student never gets hidden
tests' names before release).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status

from sandpit.api.deps import Context, CurrentUser, DbSession, OwnedWorkspace
from sandpit.api.errors import responses
from sandpit.api.files import stored_content
from sandpit.api.review_schemas import (
    CommentCreate,
    CommentOut,
    ReadOut,
    ReviewCreate,
    ReviewOut,
    SubmissionCreate,
    SubmissionCreated,
    SubmissionOut,
    SubmissionStatus,
    SubmissionSummary,
)
from sandpit.api.schemas import WorkspaceDetail, WorkspacePath
from sandpit.db.models import Assignment, Comment, Review, Submission, User
from sandpit.review import access, assignments, feedback, grades, submissions, views
from sandpit.review.access import Access
from sandpit.review.views import Release
from sandpit.workspaces.paths import join_display, validate_path

router = APIRouter(tags=["submissions"])
_SUB = "/submissions/{submission_id}"
_NOT_FOUND = responses(404, e404="No such submission, or one the caller may not see.")
_PAGE_MAX = 500
_RAW: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/plain": {}, "application/octet-stream": {}},
        "description": "The file as submitted.",
    }
}


class _Names:
    """Usernames and assignment titles, looked up once per answer."""

    def __init__(self, db: DbSession) -> None:
        self.db = db
        self.users: dict[str, str] = {}
        self.assignments: dict[str, Assignment] = {}

    async def user(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self.users:
            found = await self.db.get(User, user_id)
            self.users[user_id] = found.username if found else ""
        return self.users[user_id] or None

    async def assignment(self, assignment_id: str | None) -> Assignment | None:
        if assignment_id is None:
            return None
        if assignment_id not in self.assignments:
            found = await self.db.get(Assignment, assignment_id)
            if found is None:
                return None
            self.assignments[assignment_id] = found
        return self.assignments[assignment_id]


async def _summaries(
    db: DbSession, user: User, found: Sequence[Submission], reviewer_of: dict[str, bool]
) -> list[dict[str, Any]]:
    """The summary fields of each submission, as `user` may see them (`reviewer_of`:
    whether they see it as a reviewer, by submission id)."""
    names = _Names(db)
    ids = [s.id for s in found]
    checks = await views.checks_of(db, ids)
    newest = await submissions.newest_versions(db, found)
    reviewed = await grades.review_scores(db, ids)
    unread = await feedback.unread_counts(db, user, found)
    out: list[dict[str, Any]] = []
    for submission in found:
        assignment = await names.assignment(submission.assignment_id)
        release = Release.of(assignment, reviewer=reviewer_of[submission.id])
        check = checks.get(submission.id)
        score, max_score = views.visible_score(check, release)
        out.append(
            {
                "id": submission.id,
                "version": submission.version,
                "status": submission.status,
                "user": await names.user(submission.user_id) or "",
                "assignment_id": submission.assignment_id,
                "assignment_title": assignment.title if assignment else None,
                "reviewer": await names.user(submission.reviewer_id),
                "workspace_id": submission.workspace_id,
                "message": submission.message,
                "late": submission.late,
                "created_at": submission.created_at,
                "file_count": submission.files,
                "bytes": submission.bytes,
                "latest": newest.get((submission.user_id, submission.series)) == submission.version,
                "checks_status": check.status if check else "pending",
                "score": score,
                "max_score": max_score,
                "review_score": reviewed.get(submission.id) if release.grades_visible else None,
                "unread": unread.get(submission.id, 0),
            }
        )
    return out


def _review_out(
    review: Review, reviewer: str | None, outdated: bool, release: Release
) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        submission_id=review.submission_id,
        reviewer=reviewer,
        state=review.state,  # type: ignore[arg-type]
        body=review.body,
        score=review.score if release.grades_visible else None,
        created_at=review.created_at,
        outdated=outdated,
    )


def _comment_out(comment: Comment, author: str | None, version: int) -> CommentOut:
    return CommentOut(
        id=comment.id,
        submission_id=comment.submission_id,
        version=version,
        author=author,
        path=comment.path,
        line=comment.line,
        end_line=comment.end_line,
        body=comment.body,
        reply_to=comment.reply_to,
        created_at=comment.created_at,
    )


async def _seen(db: DbSession, user: User, submission_id: str) -> Access:
    return await access.submission_access(db, user, submission_id)


# -- making and listing ----------------------------------------------------------------


@router.post(
    "/workspaces/{workspace_id}/submissions",
    status_code=status.HTTP_201_CREATED,
    response_model=SubmissionCreated,
    responses=responses(
        404,
        409,
        429,
        e404="No such workspace, assignment or reviewer (of that assignment).",
        e409="Nothing named and the workspace was not started from an assignment, or the "
        "caller named themselves.",
        e429="Past the submissions allowed per minute.",
    ),
)
async def create_submission(
    body: SubmissionCreate,
    workspace: OwnedWorkspace,
    user: CurrentUser,
    db: DbSession,
    context: Context,
) -> SubmissionCreated:
    """Freeze the workspace as the next version of the caller's submission to an
    assignment (by default the one it was started from), or as a review request
    to a named reviewer. Its automated checks are queued at once."""
    target = await submissions.resolve_target(
        db, user, workspace, body.assignment_id, body.reviewer
    )
    made = await submissions.submit(
        db,
        context.settings,
        context.history,
        context.limiter,
        user,
        workspace,
        target,
        body.message,
    )
    if context.checks is not None:
        context.checks.wake()
    return SubmissionCreated(
        id=made.id,
        version=made.version,
        status="submitted",
        late=made.late,
        created_at=made.created_at,
    )


@router.get("/submissions", response_model=list[SubmissionSummary])
async def list_submissions(
    user: CurrentUser,
    db: DbSession,
    assignment_id: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[SubmissionStatus | None, Query()] = None,
    workspace_id: Annotated[str | None, Query(max_length=32)] = None,
    late: Annotated[bool | None, Query()] = None,
    ungraded: Annotated[
        bool, Query(description="Only those without a review (status `submitted`).")
    ] = False,
    scope: Annotated[
        Literal["own", "review"] | None,
        Query(description="own: the caller's; review: others' the caller reviews; default both."),
    ] = None,
    latest: Annotated[bool, Query(description="Only each work's newest version.")] = False,
    order: Annotated[Literal["asc", "desc"], Query(description="By submission time.")] = "asc",
    limit: Annotated[int, Query(ge=1, le=_PAGE_MAX)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many first.")] = 0,
) -> list[SubmissionSummary]:
    """A reviewer's queue (submissions to the assignments they review and review
    requests to them), or the caller's own submissions, or both."""
    filters = submissions.Filters(
        assignment_id=assignment_id,
        status="submitted" if ungraded else status,
        workspace_id=workspace_id,
        late=late,
        scope=scope,
        latest=latest,
        order=order,
    )
    found = await submissions.listing(db, user, filters, limit, offset)
    reviewer_of = {s.id: s.user_id != user.id for s in found}
    return [
        SubmissionSummary.model_validate(row)
        for row in await _summaries(db, user, found, reviewer_of)
    ]


# -- one submission --------------------------------------------------------------------


@router.get(_SUB, response_model=SubmissionOut, responses=_NOT_FOUND)
async def get_submission(submission_id: str, user: CurrentUser, db: DbSession) -> SubmissionOut:
    """The submission with its files, automated results (visibility applied for the
    caller), reviews and comments."""
    seen = await _seen(db, user, submission_id)
    submission = seen.submission
    (summary,) = await _summaries(db, user, [submission], {submission.id: seen.reviewer})
    release = Release.of(seen.assignment, reviewer=seen.reviewer)
    check = (await views.checks_of(db, [submission.id])).get(submission.id)
    # The score from the same read of the check as `checks`: the summary's read
    # came first, and a check that finished in between gave "done" with no score.
    score, max_score = views.visible_score(check, release)
    names = _Names(db)
    outdated = not summary["latest"]
    reviews = [
        _review_out(r, await names.user(r.reviewer_id), outdated, release)
        for r in await feedback.reviews(db, submission.id)
    ]
    comments = [
        _comment_out(c, await names.user(c.author_id), submission.version)
        for c in await feedback.comments(db, submission.id)
    ]
    return SubmissionOut.model_validate(
        {
            **summary,
            "score": score,
            "max_score": max_score,
            "previous_id": await submissions.previous_version(db, submission),
            "files": [
                {"path": f.path, "size": f.size}
                for f in await submissions.file_list(db, submission.id)
            ],
            "checks": views.checks_view(check, release, await views.queue_position(db, check)),
            "reviews": reviews,
            "comments": comments,
        }
    )


@router.get(
    _SUB + "/files/{path:path}",
    response_class=Response,
    responses={**_RAW, **_NOT_FOUND, **responses(400, e400="An invalid path.")},
)
async def read_submission_file(
    submission_id: str, path: WorkspacePath, user: CurrentUser, db: DbSession, context: Context
) -> Response:
    """A file's content as submitted."""
    seen = await _seen(db, user, submission_id)
    shown = join_display(validate_path(path))
    found = await submissions.file(db, seen.submission.id, shown)
    data = await context.history.content(found.sha256)
    return stored_content(data)


@router.post(
    _SUB + "/copy",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkspaceDetail,
    responses={
        **_NOT_FOUND,
        **responses(409, 413, e409="The caller has all the workspaces allowed.", e413="Quota."),
    },
)
async def copy_submission(
    submission_id: str, user: CurrentUser, db: DbSession, context: Context
) -> WorkspaceDetail:
    """A new workspace of the caller's holding the submission's files ("Open a copy to
    run it"): the submission itself never changes."""
    seen = await _seen(db, user, submission_id)
    submission = seen.submission
    owner = await _Names(db).user(submission.user_id)
    title = seen.assignment.title if seen.assignment else "Review"
    contents = await submissions.contents(db, context.history, submission.id)
    workspace = await assignments.create_filled_workspace(
        db,
        context.settings,
        context.history,
        user,
        f"{title} v{submission.version} of {owner}",
        contents,
    )
    return WorkspaceDetail.model_validate(workspace)


# -- feedback --------------------------------------------------------------------------


@router.post(
    _SUB + "/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    responses={
        **responses(
            404,
            409,
            e404="No such submission, file in it, or comment replied to.",
            e409="The submission has the most comments allowed.",
        ),
    },
)
async def create_comment(
    submission_id: str, body: CommentCreate, user: CurrentUser, db: DbSession
) -> CommentOut:
    """Comment on a line (or lines `line`..`end_line`) of a file, or reply in a thread
    (`reply_to`: the reply takes the thread's place). Its submitter and reviewers."""
    seen = await _seen(db, user, submission_id)
    comment = await feedback.add_comment(
        db,
        user,
        seen,
        path=body.path,
        line=body.line,
        end_line=body.end_line,
        body=body.body,
        reply_to=body.reply_to,
    )
    return _comment_out(comment, user.username, seen.submission.version)


@router.post(
    _SUB + "/reviews",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    responses={**_NOT_FOUND, **responses(403, e403="The caller submitted it.")},
)
async def create_review(
    submission_id: str, body: ReviewCreate, user: CurrentUser, db: DbSession
) -> ReviewOut:
    """Review this version: a state, a summary and optionally a score (which overrides
    the automated one in the grades). The submission's status follows it."""
    seen = await _seen(db, user, submission_id)
    review = await feedback.add_review(
        db, user, seen, state=body.state, body=body.body, score=body.score
    )
    newest = await submissions.newest_versions(db, [seen.submission])
    outdated = (
        newest.get((seen.submission.user_id, seen.submission.series)) != seen.submission.version
    )
    release = Release.of(seen.assignment, reviewer=True)
    return _review_out(review, user.username, outdated, release)


@router.post(_SUB + "/read", response_model=ReadOut, responses=_NOT_FOUND)
async def mark_read(submission_id: str, user: CurrentUser, db: DbSession) -> ReadOut:
    """Mark every comment and review on the submission read by the caller."""
    seen = await _seen(db, user, submission_id)
    return ReadOut(read_at=await feedback.mark_read(db, user, seen.submission.id))
