"""ruff leaves out the assignment's visible test files in a submission, by exact path only."""

from __future__ import annotations

import uuid
from pathlib import Path

from sandpit.grading.runner import grade, lint_argv
from sandpit.sandbox.base import SandboxBackend
from sandpit.sandbox.limits import Limits
from tests.grading.conftest import bubblewrap_only, write_files

# As a reviewer may write it: one blank line after the import, which ruff's
# default import sorting (I001) flags.
GIVEN = "from solution import add\n\ndef test_given_zero():\n    assert add(0, 0) == 0\n"
ODD_PATH = "tests/test_[odd],{x}.py"  # every character a glob or ruff's option parser treats


def test_the_command_line_excludes_each_given_path_literally() -> None:
    assert lint_argv(["tests/test_given.py", ODD_PATH, "a\\b*?.py"]) == [
        "ruff",
        "check",
        "--isolated",
        "--no-cache",
        "--exit-zero",
        "--output-format=json",
        "--extend-exclude=./tests/test_given.py",
        "--extend-exclude=./tests/test_[[]odd[]]?[{]x[}].py",
        "--extend-exclude=./a[\\]b[*][?].py",
        ".",
    ]


@bubblewrap_only
async def test_visible_tests_in_a_submission_are_not_linted_as_the_students(
    backend: SandboxBackend, scratch: Path
) -> None:
    submission = write_files(
        scratch / "submission",
        {
            "solution.py": "def add(a, b):\n    return a + b\n",
            "tests/test_given.py": GIVEN,
            ODD_PATH: GIVEN,
            "mine/test_given.py": GIVEN,  # the student's own file, of the same name
        },
    )
    result = await grade(
        backend,
        submission_dir=submission,
        hidden_tests={},
        visible_tests={"tests/test_given.py": GIVEN, ODD_PATH: GIVEN},
        limits=Limits(),
        timeout_s=60,
        work_dir=scratch / "work",
        sandbox_id=uuid.uuid4().hex[:20],
        owner="student",
    )
    assert result.status == "done", result
    assert [(d.path, d.line, d.code) for d in result.lint] == [("mine/test_given.py", 1, "I001")]
    assert [(test.name, test.status) for test in result.tests] == [
        ("tests/test_given.py::test_given_zero", "passed"),
        (f"{ODD_PATH}::test_given_zero", "passed"),
    ]
