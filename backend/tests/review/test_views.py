"""Pure parts of `sandpit.review`: release rules, the checks view, the grades CSV."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sandpit.db.models import Assignment, Check
from sandpit.review import grades
from sandpit.review.assignments import past_due, results_released
from sandpit.review.views import Release, checks_view

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
RESULT = {
    "status": "done",
    "score": 3.0,
    "max_score": 4.0,
    "tests": [
        {
            "name": "t.py::test_open",
            "status": "passed",
            "score": 1.0,
            "max_score": 1.0,
            "output": "",
            "visibility": "visible",
        },
        {
            "name": "h.py::test_secret",
            "status": "passed",
            "score": 2.0,
            "max_score": 3.0,
            "output": "secret output",
            "visibility": "hidden",
        },
    ],
    "lint": [],
    "notes": ["conftest.py was left out"],
    "raw_output": "raw",
}


def _assignment(release: str, due: datetime | None, released: bool = False) -> Assignment:
    return Assignment(release=release, due_at=due, released=released)


def test_release_rules() -> None:
    before, after = NOW + timedelta(hours=1), NOW - timedelta(hours=1)
    assert results_released(_assignment("immediately", before), NOW)
    assert not results_released(_assignment("after_due_date", before), NOW)
    assert results_released(_assignment("after_due_date", after), NOW)
    assert not results_released(_assignment("manual", after), NOW)
    assert results_released(_assignment("manual", after, released=True), NOW)
    assert past_due(_assignment("manual", after), NOW)
    assert not past_due(_assignment("manual", None), NOW)
    request = Release.of(None, reviewer=False, now=NOW)
    assert (request.released, request.past_due) == (True, False)


def test_a_student_sees_no_hidden_test_a_reviewer_all() -> None:
    check = Check(id=7, submission_id="s", status="done", result=json.dumps(RESULT), attempts=1)
    student = checks_view(check, Release(reviewer=False, released=True, past_due=True))
    assert [t["name"] for t in student["tests"]] == ["t.py::test_open"]
    assert student["hidden_tests"] == {"count": 1, "score": 2.0, "max_score": 3.0}
    assert "secret" not in json.dumps(student)
    assert "raw_output" not in student
    assert student["order"] == 7
    reviewer = checks_view(check, Release(reviewer=True, released=False, past_due=False))
    assert len(reviewer["tests"]) == 2
    assert reviewer["raw_output"] == "raw"


def test_a_pending_check_shows_its_place() -> None:
    check = Check(id=3, submission_id="s", status="pending", result=None, attempts=0)
    view = checks_view(check, Release(reviewer=False, released=True, past_due=False), 5)
    assert (view["status"], view["position"], view["tests"]) == ("pending", 5, [])


def test_grades_csv_cells_never_start_a_formula() -> None:
    row = grades.GradeRow(
        username="=cmd|' /C calc'!A0",
        submission_id="s",
        version=2,
        submitted_at=NOW,
        late=True,
        status="approved",
        checks="done",
        automated_score=-1.5,
        max_score=4.0,
        review_score=None,
    )
    lines = grades.to_csv([row]).splitlines()
    assert lines[0] == ",".join(grades.COLUMNS)
    assert lines[1] == "'=cmd|' /C calc'!A0,2,2026-12-06T12:00:00Z,yes,approved,done,-1.5,4.0,"


def test_why_checks_failed_is_for_reviewers() -> None:
    failed = {
        "status": "error",
        "score": 0,
        "max_score": 0,
        "tests": [],
        "lint": [],
        "notes": ["tests/test_hidden.py is not valid Python"],
        "message": "tests/test_hidden.py is not valid Python",
    }
    check = Check(id=1, submission_id="s", status="error", result=json.dumps(failed), attempts=1)
    student = checks_view(check, Release(reviewer=False, released=True, past_due=True))
    assert "test_hidden" not in json.dumps(student)
    assert student["message"] == "The checks could not run; a reviewer will look at it."
    reviewer = checks_view(check, Release(reviewer=True, released=False, past_due=False))
    assert reviewer["message"] == failed["message"]
