"""The order xdist workers get the files in: a file with a `slow` test first."""

from __future__ import annotations

import pytest

from sandpit.config import BACKEND_DIR

pytest_plugins = ["pytester"]

MANY = "def test_one():\n    pass\n\ndef test_two():\n    pass\n\ndef test_three():\n    pass\n"
SLOW = "import pytest\n\n@pytest.mark.slow\ndef test_long():\n    pass\n"


def test_a_file_with_a_slow_test_goes_first_then_the_most_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Collected in this order: test_a (3 tests), test_b (1), test_c (1 slow), test_d (2).
    pytester.makeini("[pytest]\nmarkers =\n    slow: long\n")
    pytester.makepyfile(
        test_a=MANY,
        test_b="def test_alone():\n    pass\n",
        test_c=SLOW,
        test_d="def test_x():\n    pass\n\ndef test_y():\n    pass\n",
    )
    monkeypatch.setenv("PYTHONPATH", str(BACKEND_DIR))
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    # One worker, so the order it runs the files in is the order it got them.
    result = pytester.runpytest_subprocess(
        "-p", "xdist.plugin", "-p", "tests.plugins.schedule", "-p", "no:cacheprovider",
        "-n", "1", "--dist", "loadfile", "--no-loadscope-reorder", "-v",
    )  # fmt: skip
    result.assert_outcomes(passed=7)
    ran = [line.split()[-1] for line in result.outlines if " PASSED " in line]
    files = list(dict.fromkeys(test.split("::")[0] for test in ran))
    assert files == ["test_c.py", "test_a.py", "test_d.py", "test_b.py"]
