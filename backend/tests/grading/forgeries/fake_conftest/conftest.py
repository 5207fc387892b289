"""Forgery: a conftest.py that turns every failure into a pass and prints PASSED lines.

Left out of the checked copy; pytest also runs with --noconftest.
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
    print(f"{item.nodeid} PASSED")
