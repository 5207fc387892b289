"""Forgeries score nothing; a correct solution scores full marks (bubblewrap, and Docker).

Each folder of `forgeries/` is a submission trying to score on the hidden
tests without solving them (see its README). Each is graded by the real
runner in its own fresh sandbox (one sandbox per submission, as in
production: a forgery could otherwise leave something for the next), and
must score 0 on every hidden test, each with a reason or an output that says
what happened, plus the sign of its attempt that a reviewer would look for.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sandpit.grading.results import CheckResult
from sandpit.grading.runner import grade
from sandpit.sandbox.base import SandboxBackend
from sandpit.sandbox.limits import Limits
from tests.grading.assignment import CORRECT, HIDDEN, HIDDEN_MAX, HIDDEN_NAMES, VISIBLE
from tests.grading.conftest import FORGERIES, bubblewrap_only, write_files

TIMEOUT_S = 60.0
# The forgery that sleeps must pass the limit; kept short so the test is.
SHORT_TIMEOUT_S = 6.0

# Folder -> what a reviewer sees of the attempt: a text found in the notes or
# in a hidden test's reason or output.
SIGNS = {
    "fake_conftest": "conftest.py was left out",
    "exit_at_import": "The test process ended (exit code 0) before this test reported.",
    "sitecustomize": "sitecustomize.py was left out",
    "shadow_pytest": "pytest.py was left out",
    "write_results": "did not carry this run's secret",
    "monkeypatch_unittest": "unittest.TestCase.assertEqual",
    "print_passed": "assert 0 == 2.5",
    "read_hidden_tests": "answers found: {}",
    "sleep_past_timeout": f"The checks passed their {SHORT_TIMEOUT_S:g} s time limit",
    "end_the_sandbox": "The sandbox ended while the tests ran, before this test reported.",
}


async def check(
    backend: SandboxBackend, submission: Path, work: Path, timeout_s: float
) -> CheckResult:
    return await grade(
        backend,
        submission_dir=submission,
        hidden_tests=HIDDEN,
        visible_tests=VISIBLE,
        limits=Limits(),
        timeout_s=timeout_s,
        work_dir=work,
        sandbox_id=uuid.uuid4().hex[:20],
        owner="student",
    )


# A forgery from inside the test process that does score (docs/architecture/grading.md):
# what the reviewer is told about it.
DETERMINED = {
    "through_the_harness": "The test process exited (code 0) without pytest's summary",
}


def test_every_forgery_folder_has_its_sign() -> None:
    folders = sorted(path.name for path in FORGERIES.iterdir() if path.is_dir())
    assert folders == sorted([*SIGNS, *DETERMINED])


@bubblewrap_only
@pytest.mark.parametrize("forgery", sorted(SIGNS))
async def test_a_forgery_scores_nothing_and_shows(
    backend: SandboxBackend, scratch: Path, forgery: str
) -> None:
    timeout_s = SHORT_TIMEOUT_S if forgery == "sleep_past_timeout" else TIMEOUT_S
    result = await check(backend, FORGERIES / forgery, scratch / "work", timeout_s)
    assert result.status == "done", result
    hidden = [test for test in result.tests if test.visibility != "visible"]
    assert [test.name for test in hidden] == HIDDEN_NAMES
    assert sum(test.max_score for test in hidden) == HIDDEN_MAX
    for test in hidden:
        assert test.score == 0, (forgery, test)
        assert test.status in ("failed", "error"), (forgery, test)
        assert test.reason or test.output.strip(), (forgery, test)
    said = "\n".join(
        [*result.notes, *(test.reason or "" for test in hidden), *(t.output for t in hidden)]
    )
    said += "\n" + (result.raw_output or "")
    assert SIGNS[forgery] in said, (forgery, result.to_json())


@bubblewrap_only
async def test_a_determined_forgery_is_shown_to_the_reviewer(
    backend: SandboxBackend, scratch: Path
) -> None:
    result = await check(backend, FORGERIES / "through_the_harness", scratch / "work", TIMEOUT_S)
    assert result.score == result.max_score  # it forged them all: the limit the docs state
    assert any(DETERMINED["through_the_harness"] in note for note in result.notes), result.notes
    assert "passed in" not in (result.raw_output or "")  # no pytest summary in its output


async def test_a_correct_solution_scores_full_marks(backend: SandboxBackend, scratch: Path) -> None:
    submission = write_files(scratch / "submission", CORRECT)
    result = await check(backend, submission, scratch / "work", TIMEOUT_S)
    assert result.status == "done", result
    assert [(test.name, test.status, test.score, test.max_score) for test in result.tests] == [
        ("test_stats.py::test_mean", "passed", 2.0, 2.0),
        ("test_stats.py::test_median", "passed", 1.0, 1.0),
        ("test_stats.py::test_greet_reads_a_name", "passed", 1.0, 1.0),
        ("test_stats.py::TestEdges::test_single", "passed", 1.0, 1.0),
        ("test_stats.py::TestEdges::test_empty_mean_raises", "passed", 1.0, 1.0),
        ("test_visible.py::test_mean_of_one", "passed", 1.0, 1.0),
    ], result.to_json()
    assert (result.score, result.max_score) == (7.0, 7.0)
    assert [test.visibility for test in result.tests] == ["after_published"] * 5 + ["visible"]
    assert [(d.path, d.line, d.code) for d in result.lint] == [("solution.py", 1, "F401")]
    assert result.notes == ()
    # The checked copy and the harness's directory are gone; the submission is untouched.
    assert not any((scratch / "work").iterdir())
    assert sorted(p.name for p in submission.iterdir()) == ["solution.py"]
