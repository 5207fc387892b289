"""On pytest-xdist workers, hand out the longest test files first.

`make test` runs phase 1 with `--dist loadfile`: each file goes whole to one
worker, and a worker asks for the next file when it is done. xdist's default
order (most tests first) leaves a file with few but long tests, such as the
Schemathesis run (minutes, one test), for the end, where it runs alone while
the other workers wait. With `--no-loadscope-reorder` xdist keeps the
collection order instead, and this hook puts first the files that hold a test
marked `slow`, then the rest, most tests first as xdist would.

Every worker collects the same items and sorts them the same way, as xdist
requires. Without xdist the order is left alone: in one process the browser
tests must come after the async ones (tests/ui/conftest.py, `browser_scope`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):
        return
    slow: set[Path] = {item.path for item in items if item.get_closest_marker("slow")}
    tests_in: Counter[Path] = Counter(item.path for item in items)
    # A stable sort: a file's tests stay together and in their own order.
    items.sort(key=lambda item: (item.path not in slow, -tests_in[item.path]))
