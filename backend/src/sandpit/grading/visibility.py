"""What a caller may see of a check result: one pure function, `view_for`.

Per test, its `visibility` (Gradescope's four):
- `visible`: always shown;
- `after_due_date`: shown once the assignment's due date has passed;
- `after_published`: shown once results are released to students;
- `hidden`: never shown to a student one by one.
A test a student may not see yet leaves no trace but a count and a score:
its name, output, status and reason are all withheld, in `hidden_tests`
(`{"count", "score", "max_score"}`), so that the total stays explained.
`notes` (they may name the student's own files the checks left out, and
why) and `raw_output` (the test process's output) are for reviewers only.
Reviewers see everything.
"""

from __future__ import annotations

from typing import Any


def view_for(
    result_json: dict[str, Any], *, reviewer: bool, released: bool, past_due: bool
) -> dict[str, Any]:
    """`result_json` (`CheckResult.to_json()`) as this caller may see it. Never mutates it."""
    if reviewer:
        return {**result_json, "tests": [dict(test) for test in result_json.get("tests", [])]}
    shown: list[dict[str, Any]] = []
    withheld = {"count": 0, "score": 0.0, "max_score": 0.0}
    for test in result_json.get("tests", []):
        if student_sees(
            str(test.get("visibility", "hidden")), released=released, past_due=past_due
        ):
            shown.append(dict(test))
        else:
            withheld["count"] += 1
            withheld["score"] += float(test.get("score", 0))
            withheld["max_score"] += float(test.get("max_score", 0))
    view = {
        key: value
        for key, value in result_json.items()
        if key not in ("tests", "notes", "raw_output")
    }
    view["tests"] = shown
    view["notes"] = []
    if withheld["count"]:
        withheld["score"] = round(withheld["score"], 4)
        withheld["max_score"] = round(withheld["max_score"], 4)
        view["hidden_tests"] = withheld
    return view


def student_sees(visibility: str, *, released: bool, past_due: bool) -> bool:
    """Whether a student sees a test of this visibility now (unknown values: never)."""
    if visibility == "visible":
        return True
    if visibility == "after_due_date":
        return past_due
    if visibility == "after_published":
        return released
    return False
