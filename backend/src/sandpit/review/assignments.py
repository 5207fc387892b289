"""Assignments: exercises reviewers set, and "Start", which makes a student's workspace.

An assignment's files are its `starter` files (a started workspace holds
them), its hidden `test` files (run by the checks, never shown to a student
by any endpoint, never put in a student's workspace) and its `visible_test`
files (given to students with the starter files, and run by the checks too).
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from anyio import to_thread
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.config import Settings
from sandpit.db.models import (
    Assignment,
    AssignmentFile,
    AssignmentMember,
    AssignmentStart,
    User,
    Workspace,
)
from sandpit.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from sandpit.history.service import HistoryService
from sandpit.review import access
from sandpit.services import users, workspaces
from sandpit.workspaces.paths import join_display, validate_path
from sandpit.workspaces.store import workspace_fs

STARTER, TEST, VISIBLE_TEST = "starter", "test", "visible_test"
FILE_KINDS = (STARTER, TEST, VISIBLE_TEST)
VISIBILITIES = ("everyone", "users", "code")
RELEASES = ("immediately", "after_due_date", "manual")
HIDDEN_VISIBILITIES = ("hidden", "after_due_date", "after_published")
MAX_FILES = 200  # per assignment, all kinds together
MAX_PEOPLE = 2000  # listed users and co-reviewers
_NAME_TRIES = 50


@dataclass
class AssignmentSpec:
    """What a reviewer sets (the body of `POST /api/assignments`)."""

    title: str
    description: str = ""
    starter: Mapping[str, str] = field(default_factory=dict)
    tests: Mapping[str, str] = field(default_factory=dict)
    visible_tests: Mapping[str, str] = field(default_factory=dict)
    due_at: datetime | None = None
    visibility: str = "everyone"
    users: Sequence[str] = ()
    co_reviewers: Sequence[str] = ()
    release: str = "immediately"
    published: bool = True
    hidden_visibility: str = "hidden"


def past_due(assignment: Assignment, now: datetime | None = None) -> bool:
    return assignment.due_at is not None and (now or datetime.now(UTC)) > assignment.due_at


def results_released(assignment: Assignment, now: datetime | None = None) -> bool:
    """Whether students may see hidden results and grades now (the release setting)."""
    if assignment.release == "immediately" or assignment.released:
        return True
    return assignment.release == "after_due_date" and past_due(assignment, now)


def _clean_files(kind: str, files: Mapping[str, str], max_bytes: int) -> dict[str, str]:
    """Paths checked as workspace paths are; each file within the file size limit."""
    cleaned: dict[str, str] = {}
    for raw, text in files.items():
        path = join_display(validate_path(raw))
        if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise PayloadTooLarge(f"The {kind.replace('_', ' ')} file '{path}' is too large.")
        cleaned[path] = text
    return cleaned


async def _user_ids(db: AsyncSession, names: Iterable[str]) -> list[str]:
    ids: list[str] = []
    for name in dict.fromkeys(names):
        found = await users.get_by_name(db, name)
        if found is None:
            raise NotFound(f"There is no user named {name!r}.")
        ids.append(found.id)
    return ids


async def create(
    db: AsyncSession, settings: Settings, user: User, spec: AssignmentSpec
) -> Assignment:
    """Create an assignment owned by `user`.

    Raises `Forbidden` for a plain user, `NotFound` for an unknown user
    name, `InvalidPath` for a bad path, `BadRequest` for an unknown
    visibility or release, `Conflict` for a file both hidden and given,
    `PayloadTooLarge` past the file limits.
    """
    if not access.is_staff(user):
        raise Forbidden("Only reviewers and administrators may set assignments.")
    title = spec.title.strip() or spec.title
    if spec.visibility not in VISIBILITIES:
        raise BadRequest(f"Visibility is one of {', '.join(VISIBILITIES)}.")
    if spec.release not in RELEASES:
        raise BadRequest(f"Release is one of {', '.join(RELEASES)}.")
    if spec.hidden_visibility not in HIDDEN_VISIBILITIES:
        raise BadRequest(f"Hidden tests' visibility is one of {', '.join(HIDDEN_VISIBILITIES)}.")
    files = {
        kind: _clean_files(kind, given, settings.max_file_bytes)
        for kind, given in (
            (STARTER, spec.starter),
            (TEST, spec.tests),
            (VISIBLE_TEST, spec.visible_tests),
        )
    }
    if sum(len(f) for f in files.values()) > MAX_FILES:
        raise PayloadTooLarge(f"An assignment holds at most {MAX_FILES} files.")
    overlap = set(files[TEST]) & (set(files[STARTER]) | set(files[VISIBLE_TEST]))
    if overlap:
        raise Conflict(f"'{sorted(overlap)[0]}' cannot be both a hidden test and a given file.")
    if len(spec.users) + len(spec.co_reviewers) > MAX_PEOPLE:
        raise PayloadTooLarge(f"An assignment names at most {MAX_PEOPLE} people.")
    students = await _user_ids(db, spec.users)
    reviewers = [uid for uid in await _user_ids(db, spec.co_reviewers) if uid != user.id]
    assignment = Assignment(
        owner_id=user.id,
        title=title[:200],
        description=spec.description,
        due_at=spec.due_at,
        visibility=spec.visibility,
        join_code=secrets.token_urlsafe(9) if spec.visibility == "code" else None,
        published=spec.published,
        release=spec.release,
        released=False,
        hidden_visibility=spec.hidden_visibility,
        created_at=datetime.now(UTC),
    )
    db.add(assignment)
    await db.flush()
    db.add_all(
        AssignmentFile(assignment_id=assignment.id, kind=kind, path=path, content=text)
        for kind, given in files.items()
        for path, text in given.items()
    )
    roles = {uid: access.STUDENT for uid in students} | {uid: access.REVIEWER for uid in reviewers}
    db.add_all(
        AssignmentMember(assignment_id=assignment.id, user_id=uid, role=role)
        for uid, role in roles.items()
    )
    await db.commit()
    return assignment


async def update(
    db: AsyncSession,
    assignment: Assignment,
    *,
    title: str | None = None,
    description: str | None = None,
    due_at: datetime | None = None,
    clear_due_at: bool = False,
    published: bool | None = None,
    release: str | None = None,
    released: bool | None = None,
) -> Assignment:
    """Change an assignment's settings (its reviewers only: the caller checks)."""
    if title is not None:
        assignment.title = (title.strip() or title)[:200]
    if description is not None:
        assignment.description = description
    if due_at is not None or clear_due_at:
        assignment.due_at = due_at
    if published is not None:
        assignment.published = published
    if release is not None:
        if release not in RELEASES:
            raise BadRequest(f"Release is one of {', '.join(RELEASES)}.")
        assignment.release = release
    if released is not None:
        assignment.released = released
    await db.commit()
    return assignment


async def delete_assignment(db: AsyncSession, assignment: Assignment) -> None:
    """Delete the assignment with its submissions, reviews and comments (by cascade)."""
    await db.execute(delete(Assignment).where(Assignment.id == assignment.id))
    await db.commit()


async def visible(db: AsyncSession, user: User) -> list[Assignment]:
    """Every assignment `user` may see, newest first."""
    query = select(Assignment).order_by(Assignment.created_at.desc(), Assignment.id)
    if not access.is_admin(user):
        listed = select(AssignmentMember.assignment_id).where(AssignmentMember.user_id == user.id)
        query = query.where(
            or_(
                access.reviewed_assignments(user),
                Assignment.published.is_(True)
                & or_(Assignment.visibility == "everyone", Assignment.id.in_(listed)),
            )
        )
    return list(await db.scalars(query))


async def get_visible(db: AsyncSession, user: User, assignment_id: str) -> Assignment:
    """The assignment if `user` may see it; `NotFound` otherwise."""
    assignment = await db.get(Assignment, assignment_id)
    if assignment is None or not await access.sees_assignment(db, user, assignment):
        raise NotFound("There is no such assignment.")
    return assignment


async def get_reviewed(db: AsyncSession, user: User, assignment_id: str) -> Assignment:
    """The assignment if `user` reviews it; `NotFound` otherwise (also for its students:
    what reviewers do is not theirs to probe)."""
    assignment = await db.get(Assignment, assignment_id)
    if assignment is None or not await access.reviews_assignment(db, user, assignment):
        raise NotFound("There is no such assignment.")
    return assignment


async def files(db: AsyncSession, assignment_id: str, *kinds: str) -> dict[str, dict[str, str]]:
    """The assignment's files of `kinds`: kind -> path -> text."""
    rows = await db.scalars(
        select(AssignmentFile)
        .where(AssignmentFile.assignment_id == assignment_id, AssignmentFile.kind.in_(kinds))
        .order_by(AssignmentFile.path)
    )
    found: dict[str, dict[str, str]] = {kind: {} for kind in kinds}
    for row in rows:
        found[row.kind][row.path] = row.content
    return found


async def people(db: AsyncSession, assignment_id: str) -> dict[str, list[str]]:
    """The usernames the assignment names, by role (`reviewer`, `student`)."""
    rows = await db.execute(
        select(AssignmentMember.role, User.username)
        .join(User, User.id == AssignmentMember.user_id)
        .where(AssignmentMember.assignment_id == assignment_id)
        .order_by(User.username)
    )
    found: dict[str, list[str]] = {access.REVIEWER: [], access.STUDENT: []}
    for role, name in rows:
        found.setdefault(role, []).append(name)
    return found


async def join(db: AsyncSession, user: User, code: str) -> Assignment:
    """Let `user` see the assignment whose join code this is; `NotFound` for a wrong code."""
    assignment = await db.scalar(
        select(Assignment).where(Assignment.join_code == code, Assignment.visibility == "code")
    )
    if assignment is None or not assignment.published:
        raise NotFound("No assignment has this join code.")
    if await access.member_role(db, user, assignment.id) is None:
        db.add(AssignmentMember(assignment_id=assignment.id, user_id=user.id, role=access.STUDENT))
        try:
            await db.commit()
        except IntegrityError:
            await db.rollback()  # joined twice at once: once is enough
    return assignment


async def started_workspaces(db: AsyncSession, user: User, assignment_id: str) -> list[str]:
    """The user's workspaces made by starting this assignment."""
    rows = await db.scalars(
        select(AssignmentStart.workspace_id)
        .join(Workspace, Workspace.id == AssignmentStart.workspace_id)
        .where(AssignmentStart.assignment_id == assignment_id, Workspace.owner_id == user.id)
        .order_by(Workspace.created_at)
    )
    return list(rows)


async def assignment_of_workspace(db: AsyncSession, workspace_id: str) -> str | None:
    found: str | None = await db.scalar(
        select(AssignmentStart.assignment_id).where(AssignmentStart.workspace_id == workspace_id)
    )
    return found


async def create_filled_workspace(
    db: AsyncSession,
    settings: Settings,
    history: HistoryService,
    user: User,
    name: str,
    contents: Mapping[str, bytes],
) -> Workspace:
    """A new workspace of `user` named `name` (or "name (2)"… when taken) holding
    `contents`; its files get `import` versions. Raises what `workspaces.create`
    raises (the workspace limit) and `QuotaExceeded`; nothing is left on an error."""
    workspace = await _create_named(db, settings, user, name)
    try:
        fs = workspace_fs(settings, workspace.id)

        def write_all() -> None:
            for path, data in contents.items():
                fs.write(path, data)

        async with history.lock(workspace.id):
            await to_thread.run_sync(write_all)
            await history.record(workspace.id, user.id, list(contents.items()), "import")
    except BaseException:
        await workspaces.delete(db, settings, workspace)
        raise
    return workspace


def _workspace_name(title: str) -> str:
    """A workspace name made of a title: the characters names refuse left out."""
    kept = "".join(
        ch
        for ch in unicodedata.normalize("NFC", title)
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return kept.strip()[: workspaces.NAME_MAX - 8].strip() or "Assignment"


async def _create_named(db: AsyncSession, settings: Settings, user: User, name: str) -> Workspace:
    """`workspaces.create` with the first of "name", "name (2)"… the user does not have."""
    base = _workspace_name(name)
    taken = set(await db.scalars(select(Workspace.name).where(Workspace.owner_id == user.id)))
    candidates = [base] + [f"{base} ({n})" for n in range(2, _NAME_TRIES + 1)]
    free = next((c for c in candidates if c not in taken), None)
    if free is None:
        raise Conflict(f"You already have {_NAME_TRIES} workspaces named after {base!r}.")
    return await workspaces.create(db, settings, user, free)


async def start(
    db: AsyncSession,
    settings: Settings,
    history: HistoryService,
    user: User,
    assignment: Assignment,
) -> Workspace:
    """A new workspace of `user` holding the starter files and the visible tests (never
    the hidden ones), remembered as started from `assignment`."""
    given = await files(db, assignment.id, STARTER, VISIBLE_TEST)
    contents = {
        path: text.encode()
        for kind in (STARTER, VISIBLE_TEST)
        for path, text in given[kind].items()
    }
    workspace = await create_filled_workspace(
        db, settings, history, user, assignment.title, contents
    )
    db.add(AssignmentStart(workspace_id=workspace.id, assignment_id=assignment.id))
    await db.commit()
    return workspace
