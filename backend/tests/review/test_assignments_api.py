"""Assignments through the API, on SQLite and PostgreSQL: who may set, see and start them,
and that a student never receives the hidden tests or their names."""

from __future__ import annotations

from tests.conftest import User
from tests.review.helpers import (
    HIDDEN_TEST,
    STARTER,
    VISIBLE_TEST,
    assignment_body,
    create_assignment,
    never_names_hidden,
    start,
)


def test_a_plain_user_cannot_set_an_assignment(student: User) -> None:
    refused = student.client.post("/api/assignments", json=assignment_body())
    assert refused.status_code == 403, refused.text


def test_reviewer_sets_and_sees_everything_student_sees_no_tests(
    reviewer: User, student: User
) -> None:
    made = create_assignment(reviewer.client, due_at="2030-01-01T12:00:00Z")
    assert made["tests"] == {"tests/test_hidden.py": HIDDEN_TEST}
    assert made["reviewer"] is True
    assert made["due_at"] == "2030-01-01T12:00:00Z"
    listed = student.client.get("/api/assignments")
    assert listed.status_code == 200
    mine = [a for a in listed.json() if a["id"] == made["id"]]
    assert len(mine) == 1
    assert mine[0]["tests"] is None
    assert mine[0]["reviewer"] is False
    assert mine[0]["starter"] == {"solution.py": STARTER}
    assert mine[0]["visible_tests"] == {"tests/test_given.py": VISIBLE_TEST}
    never_names_hidden(listed)
    one = student.client.get(f"/api/assignments/{made['id']}")
    assert one.status_code == 200
    never_names_hidden(one)


def test_start_makes_a_workspace_with_starter_and_visible_tests_only(
    reviewer: User, student: User
) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    files = student.client.get(f"/api/workspaces/{ws}/files").json()
    paths = sorted(f["path"] for f in files if f.get("kind", "file") == "file")
    assert paths == ["solution.py", "tests/test_given.py"]
    assert student.client.get(f"/api/workspaces/{ws}/files/solution.py").text == STARTER
    again = student.client.get(f"/api/assignments/{made['id']}").json()
    assert again["workspaces"] == [ws]
    # A second start is a second workspace, named apart.
    second = start(student.client, made["id"])
    names = {w["id"]: w["name"] for w in student.client.get("/api/workspaces").json()}
    assert names[ws] == "Adding"
    assert names[second] == "Adding (2)"


def test_listed_users_only(reviewer: User, student: User, other_student: User) -> None:
    made = create_assignment(reviewer.client, visibility="users", users=[student.username])
    assert made["users"] == [student.username]
    assert student.client.get(f"/api/assignments/{made['id']}").status_code == 200
    for call in (
        other_student.client.get(f"/api/assignments/{made['id']}"),
        other_student.client.post(f"/api/assignments/{made['id']}/start"),
    ):
        assert call.status_code == 404, call.text
    assert made["id"] not in [a["id"] for a in other_student.client.get("/api/assignments").json()]


def test_join_code(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client, visibility="code")
    code = made["join_code"]
    assert code
    assert student.client.get(f"/api/assignments/{made['id']}").status_code == 404
    wrong = student.client.post("/api/assignment-joins", json={"code": code + "x"})
    assert wrong.status_code == 404
    joined = student.client.post("/api/assignment-joins", json={"code": code})
    assert joined.status_code == 200, joined.text
    assert joined.json()["join_code"] is None
    assert joined.json()["tests"] is None
    assert student.client.get(f"/api/assignments/{made['id']}").status_code == 200


def test_unpublished_is_for_reviewers_and_co_reviewers(
    reviewer: User, other_reviewer: User, student: User
) -> None:
    made = create_assignment(reviewer.client, published=False)
    assert student.client.get(f"/api/assignments/{made['id']}").status_code == 404
    # Another reviewer is a stranger to it until named a co-reviewer.
    assert other_reviewer.client.get(f"/api/assignments/{made['id']}").status_code == 404
    shared = create_assignment(
        reviewer.client, published=False, co_reviewers=[other_reviewer.username]
    )
    seen = other_reviewer.client.get(f"/api/assignments/{shared['id']}")
    assert seen.status_code == 200
    assert seen.json()["tests"] == {"tests/test_hidden.py": HIDDEN_TEST}
    published = reviewer.client.patch(f"/api/assignments/{made['id']}", json={"published": True})
    assert published.status_code == 200, published.text
    assert student.client.get(f"/api/assignments/{made['id']}").status_code == 200


def test_only_reviewers_change_or_delete(
    reviewer: User, other_reviewer: User, student: User
) -> None:
    made = create_assignment(reviewer.client, co_reviewers=[other_reviewer.username])
    url = f"/api/assignments/{made['id']}"
    assert student.client.patch(url, json={"title": "Mine"}).status_code == 404
    assert student.client.delete(url).status_code == 404
    # A co-reviewer may change it, not delete it.
    assert other_reviewer.client.patch(url, json={"released": True}).status_code == 200
    assert other_reviewer.client.delete(url).status_code == 403
    assert reviewer.client.delete(url).status_code == 204
    assert reviewer.client.get(url).status_code == 404


def test_bad_bodies(reviewer: User) -> None:
    for body, code in (
        (assignment_body(tests={"../escape.py": "x"}), 400),
        (assignment_body(co_reviewers=["nobody-by-this-name"]), 404),
        (assignment_body(starter={"a.py": "x"}, tests={"a.py": "y"}), 409),
        (assignment_body(title="   "), 422),
        (assignment_body(due_at=0), 422),
        ({"title": "x"}, 422),
    ):
        answer = reviewer.client.post("/api/assignments", json=body)
        assert answer.status_code == code, (body, answer.text)
