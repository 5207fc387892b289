"""The skip guard itself: an unexpected skip fails an inner pytest session."""

from __future__ import annotations

import pytest

from sandpit.config import BACKEND_DIR
from tests.plugins.skip_guard import AllowedSkip

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_runs():
    assert True

def test_skips():
    pytest.skip("no image")

@pytest.mark.xfail(strict=True)
def test_expected_to_fail():
    assert False
"""


def inner_session(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    """Run `source` as test_inner.py in an inner session with only the guard added."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest_inprocess("-p", "tests.plugins.skip_guard", "-p", "no:cacheprovider")


def inner_session_on_workers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, **sources: str
) -> pytest.RunResult:
    """Run `sources` (module name -> text) on two pytest-xdist workers, as `make test` does.

    The skips then happen in the workers; the guard must fail the session
    of the controller, whose exit status is the pass's.
    """
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(**sources)
    # The workers are new interpreters: they import the guard from the backend's tests package.
    monkeypatch.setenv("PYTHONPATH", str(BACKEND_DIR))
    # Only xdist and the guard: three interpreters that load every installed
    # plugin (Schemathesis, Playwright...) would cost seconds for nothing.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester.runpytest_subprocess(
        "-p",
        "xdist.plugin",
        "-p",
        "tests.plugins.skip_guard",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--dist",
        "loadfile",
    )


def test_an_unexpected_skip_fails_the_session(pytester: pytest.Pytester) -> None:
    result = inner_session(pytester, SKIPPING)
    result.assert_outcomes(passed=1, skipped=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*unexpected skips*", "test_inner.py::test_skips: no image"])


def test_a_module_level_skip_fails_the_session(pytester: pytest.Pytester) -> None:
    result = inner_session(
        pytester, "import pytest\npytest.skip('gone', allow_module_level=True)\n"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["test_inner.py: gone"])


def test_a_skip_on_a_worker_fails_the_parallel_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = inner_session_on_workers(
        pytester,
        monkeypatch,
        test_inner=SKIPPING,
        test_gone="import pytest\npytest.skip('gone', allow_module_level=True)\n",
    )
    # The controller counts every worker's tests, the skips among them.
    result.assert_outcomes(passed=1, skipped=2, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*unexpected skips*"])
    result.stdout.fnmatch_lines(["test_inner.py::test_skips: no image"])
    result.stdout.fnmatch_lines(["test_gone.py: gone"])


def test_without_skips_the_session_passes(pytester: pytest.Pytester) -> None:
    result = inner_session(pytester, "def test_runs():\n    assert True\n")
    assert result.ret == pytest.ExitCode.OK
    assert "unexpected skips" not in result.stdout.str()


def test_an_entry_allows_only_matching_ids_and_only_while_its_condition_holds() -> None:
    holds = AllowedSkip("tests/a.py::test_x*", "why", lambda: True, "always")
    never = AllowedSkip("tests/a.py::test_x*", "why", lambda: False, "never")
    assert holds.allows("tests/a.py::test_x[1]")
    assert not holds.allows("tests/b.py::test_x")
    assert not never.allows("tests/a.py::test_x[1]")
