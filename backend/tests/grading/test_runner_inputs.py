"""The runner refuses an assignment's broken test files before starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandpit.grading.runner import grade
from sandpit.sandbox.base import SandboxSpec
from sandpit.sandbox.limits import Limits


class NoBackend:
    """Fails the test if the runner starts a sandbox: it must refuse first."""

    name = "none"

    async def start(self, spec: SandboxSpec) -> None:
        raise AssertionError("a sandbox was started for tests that cannot run")


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ({"test_a.py": "def test_(:\n"}, "The test file test_a.py is not valid Python"),
        ({"../test_a.py": "def test_a(): pass\n"}, "not a plain relative .py path: ../test_a.py"),
        ({"/abs/test_a.py": "def test_a(): pass\n"}, "not a plain relative .py path"),
        ({"test_a.txt": "def test_a(): pass\n"}, "not a plain relative .py path"),
    ],
)
async def test_broken_test_files_are_an_error_result(
    tmp_path: Path, tests: dict[str, str], message: str
) -> None:
    result = await grade(
        NoBackend(),  # type: ignore[arg-type]
        submission_dir=tmp_path,
        hidden_tests=tests,
        visible_tests={},
        limits=Limits(),
        timeout_s=10,
        work_dir=tmp_path / "work",
        sandbox_id="s1",
        owner="u1",
    )
    assert result.status == "error"
    assert result.message is not None
    assert message in result.message
    assert not (tmp_path / "work").exists()
