"""From the test process's records to scores (pure): what counts, and the reason for each 0."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from sandpit.grading import submission
from sandpit.grading.discovery import ExpectedTest, TestFileError, expected_tests, function_of
from sandpit.grading.scoring import Ending, parse_records, score, summary_note

NONCE = "n0nce"
EXPECTED = [
    ("hidden/t.py::test_a", "t.py::test_a", ExpectedTest("t.py::test_a", 2.0, "after_published")),
    ("hidden/t.py::test_b", "t.py::test_b", ExpectedTest("t.py::test_b", 1.0, "after_published")),
]
EXITED = Ending(code=0, signal=None, timed_out=False, timeout_s=30)


def line(record: dict[str, object], nonce: str = NONCE) -> bytes:
    return f"{nonce} {json.dumps(record)}\n".encode()


def reported(nodeid: str, outcome: str, **more: object) -> bytes:
    return line({"kind": "test", "nodeid": nodeid, "outcome": outcome, "output": "", **more})


def collected(*nodeids: str) -> bytes:
    return line({"kind": "started"}) + line({"kind": "collected", "nodeids": list(nodeids)})


def outcomes(data: bytes, ending: Ending = EXITED) -> list[tuple[str, float, str | None]]:
    scored = score(EXPECTED, parse_records(data, NONCE), ending)
    return [(o.status, o.score, o.reason) for o in scored.outcomes]


def test_lines_without_the_nonce_are_forgeries_and_never_read() -> None:
    data = (
        collected("hidden/t.py::test_a", "hidden/t.py::test_b")
        + reported("hidden/t.py::test_a", "passed")
        + b'{"kind": "test", "nodeid": "hidden/t.py::test_b", "outcome": "passed"}\n'
        + line({"kind": "test", "nodeid": "hidden/t.py::test_b", "outcome": "passed"}, "guess")
        + f"{NONCE} not json\n".encode()
    )
    records = parse_records(data, NONCE)
    assert records.forged_lines == 3
    assert list(records.tests) == ["hidden/t.py::test_a"]
    scored = score(EXPECTED, records, EXITED)
    assert [o.score for o in scored.outcomes] == [2.0, 0.0]
    assert "3 line(s) on the results channel did not carry this run's secret" in scored.notes[0]


def test_a_test_passes_only_if_every_case_passed() -> None:
    data = (
        collected("hidden/t.py::test_a[1]", "hidden/t.py::test_a[2]", "hidden/t.py::test_b")
        + reported("hidden/t.py::test_a[1]", "passed")
        + reported("hidden/t.py::test_a[2]", "failed")
        + reported("hidden/t.py::test_b", "skipped")
    )
    assert outcomes(data) == [("failed", 0.0, None), ("failed", 0.0, "The test was skipped.")]


def test_a_case_that_never_reported_fails_its_test_with_the_reason() -> None:
    data = collected("hidden/t.py::test_a[1]", "hidden/t.py::test_a[2]") + reported(
        "hidden/t.py::test_a[1]", "passed"
    )
    killed = Ending(code=None, signal=9, timed_out=False, timeout_s=30)
    assert outcomes(data, killed)[0] == (
        "error",
        0.0,
        "The test process was killed (signal 9) before this test reported.",
    )


@pytest.mark.parametrize(
    ("data", "ending", "reason"),
    [
        (b"", EXITED, "The test process ended (exit code 0) before this test reported."),
        (
            collected("hidden/t.py::test_a", "hidden/t.py::test_b"),
            Ending(code=None, signal=9, timed_out=True, timeout_s=7.5),
            "The checks passed their 7.5 s time limit before this test reported.",
        ),
        (
            collected() + line({"kind": "collect_error", "nodeid": "hidden/t.py", "output": "E"}),
            Ending(code=2, signal=None, timed_out=False, timeout_s=30),
            "The test file could not be collected (the submission failed to import?).",
        ),
        (collected(), EXITED, "pytest did not collect this test."),
    ],
)
def test_a_test_with_no_report_scores_0_with_why(data: bytes, ending: Ending, reason: str) -> None:
    assert outcomes(data, ending) == [("error", 0.0, reason)] * 2


def test_tampering_scores_0_and_says_what_changed() -> None:
    data = collected("hidden/t.py::test_a", "hidden/t.py::test_b") + reported(
        "hidden/t.py::test_a", "tampered", changed=["unittest.TestCase.assertEqual"]
    )
    scored = score(EXPECTED, parse_records(data, NONCE), EXITED)
    assert scored.outcomes[0].reason == (
        "The submission changed unittest.TestCase.assertEqual around this test."
    )
    assert any("unittest.TestCase.assertEqual" in note for note in scored.notes)


def test_scores_come_from_the_expected_points_and_strangers_are_ignored() -> None:
    data = (
        collected("hidden/t.py::test_a", "hidden/t.py::test_b", "hidden/t.py::test_extra")
        + reported("hidden/t.py::test_a", "passed", points=100)
        + reported("hidden/t.py::test_b", "passed")
        + reported("hidden/t.py::test_extra", "passed")
    )
    scored = score(EXPECTED, parse_records(data, NONCE), EXITED)
    assert [(o.score, o.max_score) for o in scored.outcomes] == [(2.0, 2.0), (1.0, 1.0)]
    assert scored.notes == ["1 result(s) for tests the assignment does not have were ignored."]


# --- discovery: what must be reported, read from the source -------------------------


SOURCE = """
import pytest
from pytest import mark

@pytest.mark.points(3)
def test_worth_three(): ...

@mark.points(0.5)
@mark.visibility("after_due_date")
async def test_half(): ...

def helper(): ...

@pytest.mark.points(2)
class TestGroup:
    def test_inherits(self): ...
    @pytest.mark.points(1)
    def test_own(self): ...
    def not_a_test(self): ...

class TestWithInit:
    def __init__(self): ...
    def test_never(self): ...

@pytest.mark.points(n)
def test_not_literal(): ...
"""


def test_discovery_reads_points_and_visibility_marks() -> None:
    assert expected_tests("t.py", SOURCE, "after_published") == [
        ExpectedTest("t.py::test_worth_three", 3.0, "after_published"),
        ExpectedTest("t.py::test_half", 0.5, "after_due_date"),
        ExpectedTest("t.py::TestGroup::test_inherits", 2.0, "after_published"),
        ExpectedTest("t.py::TestGroup::test_own", 1.0, "after_published"),
        ExpectedTest("t.py::test_not_literal", 1.0, "after_published"),
    ]
    assert function_of("hidden/t.py::test_a[1-x]") == "hidden/t.py::test_a"


def test_a_test_file_that_is_not_python_is_the_reviewers_error() -> None:
    with pytest.raises(TestFileError, match=r"The test file t\.py is not valid Python"):
        expected_tests("t.py", "def test(:\n", "hidden")


# --- what the checked copy leaves out ------------------------------------------------


@pytest.mark.parametrize(
    ("path", "is_dir", "note"),
    [
        ("conftest.py", False, "conftest.py was left out: pytest runs the checks without"),
        ("pkg/conftest.py", False, "pkg/conftest.py was left out"),
        ("sitecustomize.py", False, "Python's startup hooks are off"),
        ("lib/usercustomize.py", False, "Python's startup hooks are off"),
        ("x.pth", False, "Python's startup hooks are off"),
        ("pytest.py", False, "the name of a part of pytest or of the harness"),
        ("_pytest", True, "the name of a part of pytest or of the harness"),
        ("pluggy", True, "the name of a part of pytest or of the harness"),
        ("test_stats.py", False, "the name of one of the assignment's test modules"),
        ("test_stats", True, "the name of one of the assignment's test modules"),
        (".local", True, ".local/ (installed packages) was not used."),
        ("solution.py", False, None),
        ("pkg/pytest.py", False, None),  # not on sys.path: shadows nothing
        ("pkg/test_stats.py", False, None),
    ],
)
def test_what_the_checked_copy_leaves_out(path: str, is_dir: bool, note: str | None) -> None:
    names = submission.test_module_names(["test_stats.py", "sub/test_other.py"])
    assert names == {"test_stats", "test_other"}
    said = submission.why_left_out(PurePosixPath(path), is_dir=is_dir, test_names=names)
    if note is None:
        assert said is None
    else:
        assert said is not None
        assert note in said


# --- pytest's own account, beside the records ---------------------------------------


def test_results_before_collection_are_ignored() -> None:
    data = reported("hidden/t.py::test_a", "passed") + collected("hidden/t.py::test_a")
    records = parse_records(data, NONCE)
    assert (records.tests, records.early_results) == ({}, 1)
    assert "arrived before pytest had collected" in score(EXPECTED, records, EXITED).notes[0]


def test_a_summary_that_disagrees_with_the_records_is_noted() -> None:
    data = collected("hidden/t.py::test_a", "hidden/t.py::test_b") + reported(
        "hidden/t.py::test_a", "passed"
    )
    records = parse_records(data, NONCE)
    failed_one = Ending(code=1, signal=None, timed_out=False, timeout_s=30)
    assert summary_note("..\n1 failed, 1 passed in 0.12s\n", records, failed_one) is None
    note = summary_note("..\n2 failed in 0.12s\n", records, failed_one)
    assert note is not None
    assert note.startswith("pytest's own summary says 0 passed but the harness recorded 1")
    # No summary: noted when the process exited by itself, not when it was killed.
    exited = summary_note("", records, EXITED)
    assert exited is not None
    assert "without pytest's summary" in exited
    killed = Ending(code=None, signal=9, timed_out=True, timeout_s=30)
    assert summary_note("", records, killed) is None
