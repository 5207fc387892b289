"""Automated checks through the API, with real sandboxes: results as each caller may see
them (a student never gets a hidden test's name), on SQLite and PostgreSQL; and the
queue's promises on servers of their own: pending checks resume after a crash, and a
deadline burst is checked in order within the concurrency limit while a bystander's
run still answers."""

from __future__ import annotations

import concurrent.futures
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import User
from tests.review.helpers import (
    SOLVED,
    create_assignment,
    never_names_hidden,
    set_role,
    start,
    submit,
    wait_for_checks,
    write,
)
from tests.servers import SandpitServer


def test_results_as_the_student_and_the_reviewer_see_them(reviewer: User, student: User) -> None:
    made = create_assignment(reviewer.client)
    ws = start(student.client, made["id"])
    unsolved = submit(student.client, ws)["id"]
    write(student.client, ws, "solution.py", SOLVED)
    solved = submit(student.client, ws)["id"]

    mine = wait_for_checks(student.client, solved)
    assert mine["checks"]["status"] == "done"
    assert (mine["checks"]["score"], mine["checks"]["max_score"]) == (4.0, 4.0)
    assert [t["name"] for t in mine["checks"]["tests"]] == ["tests/test_given.py::test_given_zero"]
    assert mine["checks"]["hidden_tests"] == {"count": 2, "score": 3.0, "max_score": 3.0}
    assert mine["checks"]["raw_output"] is None
    never_names_hidden(student.client.get(f"/api/submissions/{solved}"))
    never_names_hidden(student.client.get("/api/submissions"))

    theirs = wait_for_checks(reviewer.client, solved)["checks"]
    names = {t["name"] for t in theirs["tests"]}
    assert "tests/test_hidden.py::test_secret_negative" in names
    assert theirs["raw_output"]

    failing = wait_for_checks(student.client, unsolved)
    assert failing["checks"]["hidden_tests"] == {"count": 2, "score": 0.0, "max_score": 3.0}
    assert failing["score"] == 0.0
    never_names_hidden(student.client.get(f"/api/submissions/{unsolved}"))
    grades = reviewer.client.get(f"/api/assignments/{made['id']}/grades.csv").text
    assert f"{student.username},2," in grades
    assert ",done,4.0,4.0," in grades


def _checks(client: Any, submission_id: str) -> dict[str, Any]:
    found: dict[str, Any] = client.get(f"/api/submissions/{submission_id}").json()["checks"]
    return found


@pytest.mark.slow
def test_pending_checks_resume_after_a_crash() -> None:
    server = SandpitServer(checks_concurrency="1", submissions_per_minute="100")
    server.start()
    reviewer, student = User(server), User(server)
    try:
        set_role(server, reviewer, "reviewer")
        made = create_assignment(reviewer.client)
        ws = start(student.client, made["id"])
        write(student.client, ws, "solution.py", SOLVED)
        subs = [submit(student.client, ws)["id"] for _ in range(3)]
        # One at a time, a second or so each: the last is still waiting.
        assert _checks(student.client, subs[-1])["status"] == "pending"
        server.kill()
        server.start()
        for sub in subs:
            done = wait_for_checks(student.client, sub)
            assert done["checks"]["status"] == "done", done["checks"]
            assert done["score"] == 4.0
    finally:
        reviewer.close()
        student.close()
        server.close()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# 100 checks, two at a time, each in a fresh sandbox: minutes on a busy machine.
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_deadline_burst_is_checked_in_order_within_the_limit() -> None:
    limit = 2
    server = SandpitServer(checks_concurrency=str(limit), submissions_per_minute="1000")
    server.start()
    reviewer, bystander = User(server), User(server)
    students = [User(server) for _ in range(10)]
    try:
        set_role(server, reviewer, "reviewer")
        made = create_assignment(reviewer.client)
        spaces = []
        for student in students:
            ws = start(student.client, made["id"])
            write(student.client, ws, "solution.py", SOLVED)
            spaces.append((student, ws))
        mine = bystander.workspace()

        def burst(pair: tuple[User, str]) -> list[str]:
            student, ws = pair
            return [submit(student.client, ws)["id"] for _ in range(10)]

        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            made_ids = [sid for ids in pool.map(burst, spaces) for sid in ids]
        assert len(made_ids) == 100
        # A bystander's run answers while the queue is full.
        run = bystander.client.post(
            f"/api/workspaces/{mine}/runs", params={"wait": "true"}, json={"code": "print(6 * 7)"}
        )
        assert run.status_code == 200, run.text
        assert (run.json()["status"], run.json()["stdout"].strip()) == ("ok", "42")

        checks = [wait_for_checks(reviewer.client, sid, timeout=600)["checks"] for sid in made_ids]
        assert all(c["status"] == "done" and c["score"] == 4.0 for c in checks)
        assert all(c["attempts"] == 1 for c in checks)
        by_queue = sorted(checks, key=lambda c: int(c["order"]))
        starts = [_at(c["started_at"]) for c in by_queue]
        assert starts == sorted(starts), "checks started out of their queue order"
        spans = [(_at(c["started_at"]), _at(c["finished_at"])) for c in checks]
        most = max(sum(1 for s, f in spans if s <= at < f) for at, _ in spans)
        assert most <= limit, f"{most} checks ran at once (limit {limit})"
    finally:
        for user in (reviewer, bystander, *students):
            user.close()
        server.close()
