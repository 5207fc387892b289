"""Reviews, line comments and unread markers on submissions.

- A review belongs to one submission (one version): a state (`commented`,
  `changes_requested`, `approved`), a summary and optionally a score. The
  submission's `status` follows its latest review. A review of a version
  that has a newer one is *outdated* (Gerrit's rule), computed when shown.
- A comment sits on a line or a range of lines of one file of one version,
  and stays with that version. A reply names the comment it answers and
  takes its place (path and lines); threads are one level deep: a reply to
  a reply joins the first comment's thread.
- Unread: comments and reviews by others made after the caller's read
  marker on that submission (`mark_read` moves it to now).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Comment, ReadMarker, Review, Submission, User
from sandpit.errors import BadRequest, Conflict, Forbidden, NotFound
from sandpit.review.access import Access
from sandpit.review.submissions import file

REVIEW_STATES = ("commented", "changes_requested", "approved")
BODY_MAX = 20_000
COMMENTS_MAX = 2000  # per submission
SCORE_MAX = 1_000_000.0


async def add_review(
    db: AsyncSession, user: User, seen: Access, *, state: str, body: str, score: float | None
) -> Review:
    """Review the submission as `user`.

    Raises `Forbidden` for its submitter and for anyone who does not review
    it (who reached it as its submitter only), `BadRequest` for an unknown
    state or a score out of range.
    """
    if seen.owner or not seen.reviewer:
        raise Forbidden("You cannot review your own submission.")
    if state not in REVIEW_STATES:
        raise BadRequest(f"A review's state is one of {', '.join(REVIEW_STATES)}.")
    if score is not None and not (-SCORE_MAX <= score <= SCORE_MAX):
        raise BadRequest("The score is out of range.")
    review = Review(
        submission_id=seen.submission.id,
        reviewer_id=user.id,
        state=state,
        body=body[:BODY_MAX],
        score=score,
        created_at=datetime.now(UTC),
    )
    db.add(review)
    seen.submission.status = state
    await db.commit()
    return review


async def reviews(db: AsyncSession, submission_id: str) -> list[Review]:
    rows = await db.scalars(
        select(Review).where(Review.submission_id == submission_id).order_by(Review.created_at)
    )
    return list(rows)


async def add_comment(
    db: AsyncSession,
    user: User,
    seen: Access,
    *,
    path: str,
    line: int,
    end_line: int | None,
    body: str,
    reply_to: str | None,
) -> Comment:
    """Comment on lines of a file of the submission (submitter or reviewer).

    Raises `NotFound` for a file not in the submission or `reply_to` naming
    no comment of this submission, `Conflict` past `COMMENTS_MAX`. A range
    given backwards is taken in order; a body past `BODY_MAX` characters is cut.
    """
    submission = seen.submission
    count = await db.scalar(
        select(func.count()).select_from(Comment).where(Comment.submission_id == submission.id)
    )
    if (count or 0) >= COMMENTS_MAX:
        raise Conflict(f"This submission has the most comments allowed ({COMMENTS_MAX}).")
    if reply_to is not None:
        parent = await db.get(Comment, reply_to)
        if parent is None or parent.submission_id != submission.id:
            raise NotFound("There is no such comment on this submission.")
        thread = parent.reply_to or parent.id
        path, line, end_line = parent.path, parent.line, parent.end_line
    else:
        thread = None
        await file(db, submission.id, path)
        end_line = line if end_line is None else end_line
        line, end_line = max(1, min(line, end_line)), max(line, end_line)
    comment = Comment(
        submission_id=submission.id,
        author_id=user.id,
        path=path,
        line=line,
        end_line=end_line,
        body=body[:BODY_MAX],
        reply_to=thread,
        created_at=datetime.now(UTC),
    )
    db.add(comment)
    await db.commit()
    return comment


async def comments(db: AsyncSession, submission_id: str) -> list[Comment]:
    rows = await db.scalars(
        select(Comment)
        .where(Comment.submission_id == submission_id)
        .order_by(Comment.created_at, Comment.id)
    )
    return list(rows)


async def mark_read(db: AsyncSession, user: User, submission_id: str) -> datetime:
    """Everything on the submission up to now counts as read by `user`."""
    now = datetime.now(UTC)
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ReadMarker).values(user_id=user.id, submission_id=submission_id, read_at=now)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "submission_id"], set_={"read_at": now}
        )
    )
    await db.commit()
    return now


async def unread_counts(
    db: AsyncSession, user: User, submissions: Sequence[Submission]
) -> dict[str, int]:
    """For each submission: comments and reviews by others since `user` last read it."""
    ids = [s.id for s in submissions]
    counts: dict[str, int] = dict.fromkeys(ids, 0)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = await db.execute(
            select(ReadMarker.submission_id, ReadMarker.read_at).where(
                ReadMarker.user_id == user.id, ReadMarker.submission_id.in_(chunk)
            )
        )
        marks = {submission_id: at for submission_id, at in found.tuples()}
        for table, author in ((Comment, Comment.author_id), (Review, Review.reviewer_id)):
            rows = await db.execute(
                select(table.submission_id, table.created_at).where(
                    table.submission_id.in_(chunk), author != user.id
                )
            )
            for submission_id, at in rows.tuples():
                mark = marks.get(submission_id)
                if mark is None or at > mark:
                    counts[submission_id] += 1
    return counts
