"""Submissions through the API, on SQLite and PostgreSQL: versions, frozen files that
outlive the workspace, review requests, copies, and every cross-user 404."""

from __future__ import annotations

from tests.conftest import User
from tests.review.helpers import SOLVED, STARTER, create_assignment, start, submit, write


def test_submit_freezes_versions_the_student_keeps_working(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    first = submit(student.client, ws)
    assert first["version"] == 1
    assert first["status"] == "submitted"
    assert first["late"] is False
    write(student.client, ws, "solution.py", SOLVED)
    second = submit(student.client, ws, assignment_id=made["id"])
    assert second["version"] == 2
    # The first version still holds what was submitted then.
    old = student.client.get(f"/api/submissions/{first['id']}/files/solution.py")
    assert old.status_code == 200
    assert old.text == STARTER
    new = student.client.get(f"/api/submissions/{second['id']}")
    assert new.status_code == 200, new.text
    body = new.json()
    assert body["previous_id"] == first["id"]
    assert body["latest"] is True
    assert {f["path"] for f in body["files"]} == {"solution.py", "tests/test_given.py"}
    assert body["checks"]["status"] in ("pending", "running", "done", "error")
    assert student.client.get(f"/api/submissions/{first['id']}").json()["latest"] is False


def test_a_submission_outlives_its_workspace(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    write(student.client, ws, "solution.py", SOLVED)
    sub = submit(student.client, ws)
    assert student.client.delete(f"/api/workspaces/{ws}").status_code == 204
    kept = student.client.get(f"/api/submissions/{sub['id']}")
    assert kept.status_code == 200
    assert kept.json()["workspace_id"] is None
    content = reviewer.client.get(f"/api/submissions/{sub['id']}/files/solution.py")
    assert content.status_code == 200
    assert content.text == SOLVED


def test_late_submissions_are_flagged(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client, due_at="2020-01-01T00:00:00Z")
    ws = start(student.client, made["id"])
    assert submit(student.client, ws)["late"] is True


def test_cross_user_and_cross_reviewer_404(
    reviewer: User, other_reviewer: User, student: User, other_student: User
) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    sub = submit(student.client, ws)["id"]
    for stranger in (other_student, other_reviewer):
        for answer in (
            stranger.client.get(f"/api/submissions/{sub}"),
            stranger.client.get(f"/api/submissions/{sub}/files/solution.py"),
            stranger.client.post(f"/api/submissions/{sub}/copy"),
            stranger.client.post(
                f"/api/submissions/{sub}/comments",
                json={"path": "solution.py", "line": 1, "body": "mine now"},
            ),
            stranger.client.post(
                f"/api/submissions/{sub}/reviews", json={"state": "approved", "body": ""}
            ),
            stranger.client.post(f"/api/submissions/{sub}/read"),
            stranger.client.get(f"/api/assignments/{made['id']}/grades.csv"),
        ):
            assert answer.status_code == 404, (answer.request.url, answer.text)
        assert sub not in [s["id"] for s in stranger.client.get("/api/submissions").json()]
    # Someone else's workspace cannot be submitted either.
    taken = other_student.client.post(f"/api/workspaces/{ws}/submissions", json={"message": "x"})
    assert taken.status_code == 404
    # A student cannot read the grades of their own assignment.
    assert student.client.get(f"/api/assignments/{made['id']}/grades.csv").status_code == 404


def test_the_queue_and_own_lists(reviewer: User, student: User, other_student: User) -> None:
    made = create_assignment(reviewer.client)
    subs = []
    for who in (student, other_student):
        ws = start(who.client, made["id"])
        subs.append(submit(who.client, ws)["id"])
    queue = reviewer.client.get("/api/submissions", params={"assignment_id": made["id"]})
    assert queue.status_code == 200
    assert [s["id"] for s in queue.json()] == subs  # by submission time
    assert {s["user"] for s in queue.json()} == {student.username, other_student.username}
    newest_first = reviewer.client.get(
        "/api/submissions", params={"assignment_id": made["id"], "order": "desc"}
    ).json()
    assert [s["id"] for s in newest_first] == subs[::-1]
    page = reviewer.client.get(
        "/api/submissions", params={"assignment_id": made["id"], "limit": 1, "offset": 1}
    ).json()
    assert [s["id"] for s in page] == subs[1:]
    own = student.client.get("/api/submissions").json()
    assert [s["id"] for s in own] == [subs[0]]
    assert (
        reviewer.client.get(
            "/api/submissions", params={"assignment_id": made["id"], "status": "approved"}
        ).json()
        == []
    )


def test_review_request_to_a_named_reviewer(
    reviewer: User, other_reviewer: User, student: User
) -> None:
    ws = student.workspace("take-home")
    write(student.client, ws, "main.py", "print('hi')\n")
    asked = submit(student.client, ws, reviewer=reviewer.username)
    assert asked["version"] == 1
    assert reviewer.client.get(f"/api/submissions/{asked['id']}").status_code == 200
    assert other_reviewer.client.get(f"/api/submissions/{asked['id']}").status_code == 404
    queue = reviewer.client.get("/api/submissions", params={"scope": "review"}).json()
    assert asked["id"] in [s["id"] for s in queue]
    # Not a reviewer's name, no one's name: 404; nothing named at all: 409.
    for body, code in (
        ({"reviewer": student.username}, 404),
        ({"reviewer": "no-such-person"}, 404),
        ({}, 409),
    ):
        answer = student.client.post(
            f"/api/workspaces/{ws}/submissions", json={"message": "x", **body}
        )
        assert answer.status_code == code, answer.text


def test_open_a_copy_to_run_it(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    write(student.client, ws, "solution.py", SOLVED)
    sub = submit(student.client, ws)["id"]
    copied = reviewer.client.post(f"/api/submissions/{sub}/copy")
    assert copied.status_code == 201, copied.text
    copy = copied.json()["id"]
    assert reviewer.client.get(f"/api/workspaces/{copy}/files/solution.py").text == SOLVED
    # The copy is the reviewer's own: the student cannot reach it.
    assert student.client.get(f"/api/workspaces/{copy}").status_code == 404
