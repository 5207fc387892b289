"""The result model: its JSON is the API's `checks` object, and reads back the same."""

from __future__ import annotations

import pytest

from sandpit.grading.results import (
    OUTPUT_LIMIT,
    CheckResult,
    LintDiagnostic,
    TestOutcome,
    bounded,
)

RESULT = CheckResult(
    status="done",
    tests=(
        TestOutcome("test_a.py::test_one", "passed", 2.0, 2.0, "", "after_published"),
        TestOutcome(
            "test_a.py::test_two",
            "error",
            0.0,
            1.5,
            "",
            "visible",
            reason="The test process ended (exit code 0) before this test reported.",
        ),
    ),
    lint=(LintDiagnostic("pkg/mod.py", 3, 8, "F401", "`os` imported but unused"),),
    notes=("conftest.py was left out: pytest runs the checks without conftest.py files.",),
    raw_output="..F\n",
)


def test_the_json_has_the_apis_shape() -> None:
    assert RESULT.to_json() == {
        "status": "done",
        "score": 2.0,
        "max_score": 3.5,
        "tests": [
            {
                "name": "test_a.py::test_one",
                "status": "passed",
                "score": 2.0,
                "max_score": 2.0,
                "output": "",
                "visibility": "after_published",
            },
            {
                "name": "test_a.py::test_two",
                "status": "error",
                "score": 0.0,
                "max_score": 1.5,
                "output": "",
                "visibility": "visible",
                "reason": "The test process ended (exit code 0) before this test reported.",
            },
        ],
        "lint": [
            {
                "path": "pkg/mod.py",
                "line": 3,
                "column": 8,
                "code": "F401",
                "message": "`os` imported but unused",
            }
        ],
        "notes": ["conftest.py was left out: pytest runs the checks without conftest.py files."],
        "raw_output": "..F\n",
    }


def test_it_reads_back_the_same() -> None:
    assert CheckResult.from_json(RESULT.to_json()) == RESULT
    pending = CheckResult.pending()
    assert pending.to_json() == {
        "status": "pending",
        "score": 0,
        "max_score": 0,
        "tests": [],
        "lint": [],
        "notes": [],
    }
    assert CheckResult.from_json(pending.to_json()) == pending


def test_a_failed_run_says_why() -> None:
    failed = CheckResult.failed("The checks could not run: the sandbox did not start.")
    assert failed.to_json()["status"] == "error"
    assert failed.to_json()["message"] == "The checks could not run: the sandbox did not start."
    assert CheckResult.from_json(failed.to_json()) == failed


@pytest.mark.parametrize(
    "broken",
    [
        {"status": "finished"},
        {"status": "done", "tests": [{"name": "t", "status": "ok", "score": 1, "max_score": 1}]},
        {
            "status": "done",
            "tests": [
                {"name": "t", "status": "passed", "score": 1, "max_score": 1, "visibility": "x"}
            ],
        },
    ],
)
def test_unknown_values_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="unknown"):
        CheckResult.from_json(broken)


def test_output_is_bounded_and_says_so() -> None:
    assert bounded("short", OUTPUT_LIMIT) == "short"
    cut = bounded("x" * (OUTPUT_LIMIT + 10), OUTPUT_LIMIT)
    assert cut.startswith("x" * OUTPUT_LIMIT)
    assert cut.endswith("(10 more characters left out)")
