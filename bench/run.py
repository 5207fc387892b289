"""Run every benchmark in this folder and print their tables.

Usage: backend/.venv/bin/python bench/run.py [NAME ...]
Benchmarks are never part of the test pass: the machines are noisy, so
speed is measured here and reported, not asserted.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "api_files",
    "runs",
    "terminals",
    "ide",
    "load",
    "backup",
    "proxy",
    "export",
    "history",
    "checks",
    "run_overhead",
    "submissions",
    "lsp",
    "ide_requests",
    "db",
]


def main(argv: list[str]) -> int:
    # The servers the benchmarks start are the test pass's (tests/servers.py),
    # but without its double-close guard: production does not install it.
    os.environ.setdefault("SANDPIT_TEST_FD_GUARD", "false")
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent / "backend"))
    for name in argv or BENCHMARKS:
        module = importlib.import_module(f"bench_{name}")
        print(f"\n## {name}\n")
        module.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
