"""Bodies of the assignment, submission and review endpoints (`api.assignments`,
`api.submissions`), kept apart from `sandpit.api.schemas` like the history ones.

A student's view of an assignment never holds its hidden tests, their
paths or their names; `AssignmentOut.tests` is set for its reviewers only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from sandpit.api import patterns
from sandpit.api.schemas import Body, Timestamp, WorkspacePath
from sandpit.services.users import USERNAME_RE

Visibility = Literal["everyone", "users", "code"]
Release = Literal["immediately", "after_due_date", "manual"]
HiddenVisibility = Literal["hidden", "after_due_date", "after_published"]
SubmissionStatus = Literal["submitted", "commented", "changes_requested", "approved"]
ReviewState = Literal["commented", "changes_requested", "approved"]
CheckStatus = Literal["pending", "running", "done", "error"]


def _text_only(value: object) -> object:
    # Strict bodies take a date-time only as RFC 3339 text, never a number.
    if not isinstance(value, str):
        raise ValueError("a date-time is written as RFC 3339 text")
    return value


# A point in time in a request: RFC 3339 text with its offset.
InstantIn = Annotated[AwareDatetime, BeforeValidator(_text_only), Field(strict=False)]
# Text the database stores as it is: any character but NUL (which PostgreSQL refuses).
_NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Field(pattern=_NO_NUL)]
_PATH_NAMES = {k: v for k, v in patterns.workspace_path().items() if k in ("pattern", "minLength")}
Files = Annotated[
    dict[str, Text],
    Field(
        description="Path in the workspace -> the file's text.",
        max_length=200,
        json_schema_extra={"propertyNames": _PATH_NAMES},
    ),
]
Username = Annotated[str, Field(pattern=USERNAME_RE.pattern, examples=["ada"])]
Id = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="An id the API gave.")]


def _whole(value: object) -> object:
    # As `schemas.JsonInt`: JSON Schema's integer includes 12.0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# The bounds before the validator, so that the schema states them (`minimum`, `maximum`).
LineNumber = Annotated[int, Field(ge=1, le=10_000_000), BeforeValidator(_whole)]
_TEXT_MAX = 100_000


class AssignmentCreate(Body):
    title: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$", examples=["Fizz buzz"]
    )
    description: Text = Field(default="", max_length=_TEXT_MAX, description="Markdown.")
    starter: Files = Field(default={}, description="Files a started workspace holds.")
    tests: Files = Field(description="Hidden pytest files: never shown to students.")
    visible_tests: Files = Field(default={}, description="Test files students get too.")
    due_at: InstantIn | None = None
    visibility: Visibility = Field(
        default="everyone",
        description="everyone: every signed-in user; users: those in `users`; "
        "code: those who join with the code the answer gives.",
    )
    users: list[str] = Field(
        default=[], max_length=2000, description="Usernames (visibility users)."
    )
    co_reviewers: list[str] = Field(default=[], max_length=100, description="Usernames.")
    release: Release = Field(
        default="immediately",
        description="When hidden results and review scores reach students.",
    )
    published: bool = True
    hidden_tests_visibility: HiddenVisibility = Field(
        default="hidden",
        description="How hidden tests' results show to students: hidden (only a count and "
        "a score, ever), after_due_date, or after_published (once released).",
    )


class AssignmentUpdate(Body):
    title: str | None = Field(
        default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*\S[^\x00]*$"
    )
    description: Text | None = Field(default=None, max_length=_TEXT_MAX)
    due_at: InstantIn | None = None
    clear_due_at: bool = Field(default=False, description="Remove the due date.")
    published: bool | None = None
    release: Release | None = None
    released: bool | None = Field(default=None, description="Release now (release `manual`).")


class AssignmentJoin(Body):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")


class AssignmentOut(BaseModel):
    id: str
    title: str
    description: str
    owner: str = Field(description="The username of who set it.")
    due_at: Timestamp | None
    past_due: bool
    visibility: Visibility
    published: bool
    release: Release
    released: bool = Field(description="Whether students see released results and scores now.")
    hidden_tests_visibility: HiddenVisibility
    created_at: Timestamp
    reviewer: bool = Field(description="Whether the caller reviews this assignment.")
    starter: dict[str, str]
    visible_tests: dict[str, str]
    workspaces: list[str] = Field(description="The caller's workspaces started from it.")
    # For its reviewers only (None for everyone else):
    tests: dict[str, str] | None = None
    join_code: str | None = None
    users: list[str] | None = None
    co_reviewers: list[str] | None = None


class SubmissionCreate(Body):
    message: Text = Field(default="", max_length=2000)
    assignment_id: Id | None = Field(
        default=None, description="Default: the assignment the workspace was started from."
    )
    reviewer: Username | None = Field(
        default=None,
        description="The reviewer asked (a review request; with an assignment, one of its "
        "reviewers).",
    )


class SubmissionCreated(BaseModel):
    id: str
    version: int
    status: SubmissionStatus
    late: bool
    created_at: Timestamp


class TestResultOut(BaseModel):
    name: str
    status: str
    score: float
    max_score: float
    output: str
    visibility: str | None = None
    reason: str | None = None


class HiddenTestsOut(BaseModel):
    count: int
    score: float
    max_score: float


class ChecksOut(BaseModel):
    """The automated results, with what the caller may not see left out: for a student
    before release, hidden tests are counted and scored but never named."""

    status: CheckStatus
    score: float | None = None
    max_score: float | None = None
    tests: list[TestResultOut] = []
    lint: list[dict[str, Any]] = []
    notes: list[str] = []
    hidden_tests: HiddenTestsOut | None = Field(
        default=None,
        description="Tests the caller may not see yet: only their count and score.",
    )
    raw_output: str | None = Field(default=None, description="Reviewers only.")
    position: int | None = Field(
        default=None, description="While pending: how many checks are ahead in the queue."
    )
    message: str | None = None
    queued_at: Timestamp | None = None
    started_at: Timestamp | None = Field(default=None, description="Of the latest attempt.")
    finished_at: Timestamp | None = None
    attempts: int = Field(default=0, description="Times the checks were started.")
    order: int | None = Field(
        default=None, description="The check's place in the queue: checks start in this order."
    )


class ReviewCreate(Body):
    state: ReviewState
    body: Text = Field(default="", max_length=20_000)
    score: float | None = Field(default=None, ge=-1_000_000, le=1_000_000)


class ReviewOut(BaseModel):
    id: str
    submission_id: str
    reviewer: str | None
    state: ReviewState
    body: str
    score: float | None = Field(description="None for a student until grades are released.")
    created_at: Timestamp
    outdated: bool = Field(description="A newer version of the work was submitted since.")


class CommentCreate(Body):
    path: WorkspacePath
    line: LineNumber
    end_line: LineNumber | None = Field(
        default=None, description="The range's last line (default: `line`)."
    )
    body: str = Field(min_length=1, max_length=20_000, pattern=r"^[^\x00]*\S[^\x00]*$")
    reply_to: Id | None = Field(
        default=None, description="The comment answered: the reply joins its thread and place."
    )


class CommentOut(BaseModel):
    id: str
    submission_id: str
    version: int
    author: str | None
    path: str
    line: int
    end_line: int
    body: str
    reply_to: str | None
    created_at: Timestamp


class SubmissionFileOut(BaseModel):
    path: str
    size: int


class SubmissionSummary(BaseModel):
    id: str
    version: int
    status: SubmissionStatus
    user: str = Field(description="The submitter's username.")
    assignment_id: str | None
    assignment_title: str | None
    reviewer: str | None = Field(description="A review request: the reviewer asked.")
    workspace_id: str | None = Field(description="None once the workspace was deleted.")
    message: str
    late: bool
    created_at: Timestamp
    file_count: int
    bytes: int
    latest: bool = Field(description="No newer version of this work was submitted.")
    checks_status: CheckStatus
    score: float | None = Field(description="The automated score the caller may see.")
    max_score: float | None
    review_score: float | None
    unread: int = Field(description="Comments and reviews by others the caller has not read.")


class SubmissionOut(SubmissionSummary):
    previous_id: str | None = Field(description="The version just before, if any.")
    files: list[SubmissionFileOut]
    checks: ChecksOut
    reviews: list[ReviewOut]
    comments: list[CommentOut]


class ReadOut(BaseModel):
    read_at: Timestamp
