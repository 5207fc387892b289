"""Visibility: a student never sees a withheld test's name or output, only a count and a score."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandpit.grading.results import CheckResult, TestOutcome
from sandpit.grading.visibility import student_sees, view_for

SECRET = "test_hidden_secret_name"
RESULT = CheckResult(
    status="done",
    tests=(
        TestOutcome("test_v.py::test_shown", "passed", 1.0, 1.0, "ok", "visible"),
        TestOutcome("test_h.py::test_due", "failed", 0.0, 2.0, "assert 1 == 2", "after_due_date"),
        TestOutcome(f"test_h.py::{SECRET}", "passed", 3.0, 3.0, "hidden out", "after_published"),
        TestOutcome("test_h.py::test_never", "error", 0.0, 1.0, "", "hidden", reason="time limit"),
    ),
    notes=("test_h.py was left out: it has the name of one of the assignment's test modules.",),
    raw_output=f"FAILED test_h.py::{SECRET}\n",
).to_json()


def names(view: dict[str, Any]) -> list[str]:
    return [test["name"] for test in view["tests"]]


def test_a_reviewer_sees_everything() -> None:
    view = view_for(RESULT, reviewer=True, released=False, past_due=False)
    assert view == RESULT
    assert view is not RESULT


def test_before_the_due_date_and_release_a_student_sees_visible_tests_and_a_count() -> None:
    view = view_for(RESULT, reviewer=False, released=False, past_due=False)
    assert names(view) == ["test_v.py::test_shown"]
    assert view["hidden_tests"] == {"count": 3, "score": 3.0, "max_score": 6.0}
    assert (view["score"], view["max_score"]) == (4.0, 7.0)
    assert view["notes"] == []
    assert "raw_output" not in view
    # Nowhere in the answer: not the name, not its output, not the raw output.
    text = json.dumps(view)
    assert SECRET not in text
    assert "hidden out" not in text
    assert "test_h.py" not in text


def test_after_the_due_date_the_due_tests_show() -> None:
    view = view_for(RESULT, reviewer=False, released=False, past_due=True)
    assert names(view) == ["test_v.py::test_shown", "test_h.py::test_due"]
    assert view["hidden_tests"] == {"count": 2, "score": 3.0, "max_score": 4.0}


def test_once_released_only_hidden_ones_stay_withheld() -> None:
    view = view_for(RESULT, reviewer=False, released=True, past_due=True)
    assert names(view) == [
        "test_v.py::test_shown",
        "test_h.py::test_due",
        f"test_h.py::{SECRET}",
    ]
    assert view["hidden_tests"] == {"count": 1, "score": 0.0, "max_score": 1.0}
    assert "time limit" not in json.dumps(view)


def test_nothing_withheld_means_no_count() -> None:
    only_visible = CheckResult(
        status="done", tests=(TestOutcome("t.py::test_a", "passed", 1.0, 1.0),)
    ).to_json()
    assert "hidden_tests" not in view_for(
        only_visible, reviewer=False, released=False, past_due=False
    )


def test_the_result_passed_in_is_not_changed() -> None:
    before = json.dumps(RESULT, sort_keys=True)
    view_for(RESULT, reviewer=False, released=False, past_due=False)
    view_for(RESULT, reviewer=True, released=True, past_due=True)
    assert json.dumps(RESULT, sort_keys=True) == before


@pytest.mark.parametrize(
    ("visibility", "released", "past_due", "seen"),
    [
        ("visible", False, False, True),
        ("after_due_date", False, False, False),
        ("after_due_date", False, True, True),
        ("after_published", False, True, False),
        ("after_published", True, False, True),
        ("hidden", True, True, False),
        ("anything else", True, True, False),
    ],
)
def test_the_rule_for_each_visibility(
    visibility: str, released: bool, past_due: bool, seen: bool
) -> None:
    assert student_sees(visibility, released=released, past_due=past_due) is seen
