"""Reviews, threaded line comments, unread markers and grades through the API, on SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import io

from tests.conftest import User
from tests.review.helpers import SOLVED, create_assignment, start, submit, write


def _comment(user: User, sub: str, **body: object) -> dict[str, object]:
    made = user.client.post(f"/api/submissions/{sub}/comments", json=body)
    assert made.status_code == 201, made.text
    found: dict[str, object] = made.json()
    return found


def test_review_loop_threads_status_and_outdated(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    first = submit(student.client, ws)["id"]

    note = _comment(reviewer, first, path="solution.py", line=2, body="Not implemented?")
    assert note["end_line"] == 2
    assert note["version"] == 1
    assert note["author"] == reviewer.username
    ranged = _comment(reviewer, first, path="solution.py", line=1, end_line=2, body="Both lines")
    assert ranged["end_line"] == 2
    # The student has two unread comments, replies, and reads them.
    own = student.client.get("/api/submissions", params={"workspace_id": ws}).json()
    assert own[0]["unread"] == 2
    reply = _comment(student, first, path="ignored.py", line=9, body="Fixing", reply_to=note["id"])
    assert (reply["path"], reply["line"], reply["reply_to"]) == ("solution.py", 2, note["id"])
    read = student.client.post(f"/api/submissions/{first}/read")
    assert read.status_code == 200
    assert (
        student.client.get("/api/submissions", params={"workspace_id": ws}).json()[0]["unread"] == 0
    )
    # The reviewer has the reply unread.
    assert (
        reviewer.client.get(f"/api/submissions?assignment_id={made['id']}").json()[0]["unread"] == 1
    )

    review = reviewer.client.post(
        f"/api/submissions/{first}/reviews",
        json={"state": "changes_requested", "body": "Implement add."},
    )
    assert review.status_code == 201, review.text
    assert review.json()["outdated"] is False
    assert student.client.get(f"/api/submissions/{first}").json()["status"] == "changes_requested"
    # The student may not review their own work.
    self_review = student.client.post(
        f"/api/submissions/{first}/reviews", json={"state": "approved", "body": "lgtm"}
    )
    assert self_review.status_code == 403

    write(student.client, ws, "solution.py", SOLVED)
    second = submit(student.client, ws)["id"]
    old = student.client.get(f"/api/submissions/{first}").json()
    assert old["reviews"][0]["outdated"] is True
    assert [c["id"] for c in old["comments"]] == [note["id"], ranged["id"], reply["id"]]
    new = student.client.get(f"/api/submissions/{second}").json()
    assert new["comments"] == []
    assert new["reviews"] == []
    assert new["status"] == "submitted"

    approved = reviewer.client.post(
        f"/api/submissions/{second}/reviews",
        json={"state": "approved", "body": "Good.", "score": 9.5},
    )
    assert approved.status_code == 201
    seen = student.client.get(f"/api/submissions/{second}").json()
    assert seen["status"] == "approved"
    assert seen["reviews"][0]["score"] == 9.5

    table = reviewer.client.get(f"/api/assignments/{made['id']}/grades.csv")
    assert table.status_code == 200
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert len(rows) == 1
    assert rows[0]["username"] == student.username
    assert (rows[0]["version"], rows[0]["status"], rows[0]["review_score"]) == (
        "2",
        "approved",
        "9.5",
    )
    assert rows[0]["late"] == "no"


def test_bad_comments(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client)
    sub = submit(student.client, start(student.client, made["id"]))["id"]
    url = f"/api/submissions/{sub}/comments"
    for body, code in (
        ({"path": "missing.py", "line": 1, "body": "x"}, 404),
        ({"path": "solution.py", "line": 1, "body": "x", "reply_to": "0" * 32}, 404),
        ({"path": "solution.py", "line": 0, "body": "x"}, 422),
        ({"path": "solution.py", "line": 1, "body": ""}, 422),
        ({"path": "../solution.py", "line": 1, "body": "x"}, 404),
    ):
        answer = reviewer.client.post(url, json=body)
        assert answer.status_code == code, (body, answer.text)
    # A range given backwards is taken in order.
    backwards = reviewer.client.post(
        url, json={"path": "solution.py", "line": 3, "end_line": 2, "body": "x"}
    )
    assert backwards.status_code == 201
    assert (backwards.json()["line"], backwards.json()["end_line"]) == (2, 3)


def test_review_scores_wait_for_release(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client, release="manual")
    assert made["released"] is False
    sub = submit(student.client, start(student.client, made["id"]))["id"]
    scored = reviewer.client.post(
        f"/api/submissions/{sub}/reviews", json={"state": "approved", "body": "ok", "score": 7}
    )
    assert scored.status_code == 201
    assert scored.json()["score"] == 7
    hidden = student.client.get(f"/api/submissions/{sub}").json()
    assert hidden["reviews"][0]["score"] is None
    assert hidden["review_score"] is None
    assert hidden["reviews"][0]["body"] == "ok"  # feedback itself is never held back
    released = reviewer.client.patch(f"/api/assignments/{made['id']}", json={"released": True})
    assert released.status_code == 200
    assert released.json()["released"] is True
    shown = student.client.get(f"/api/submissions/{sub}").json()
    assert shown["reviews"][0]["score"] == 7
    assert shown["review_score"] == 7
