"""The shadow check (`sandbox/inside/shadow.py`), on real directories, without a sandbox."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sandpit.runs.interpreter import OFF, describe
from sandpit.sandbox.base import Interpreter
from sandpit.sandbox.inside.shadow import ShadowCheck
from sandpit.sandbox.inside.warm_keeper import job_of

NAMES = frozenset({"numpy", "pandas", "json"})


def _age(path: Path, ns: int | None = None) -> int:
    """Set `path`'s change time to `ns`, by default a second back (past the racy window)."""
    ns = ns if ns is not None else time.time_ns() - 1_000_000_000
    os.utime(path, ns=(ns, ns))
    return ns


def test_what_shadows_and_what_does_not(tmp_path: Path) -> None:
    check = ShadowCheck(NAMES)
    site = tmp_path / "site"
    site.mkdir()
    assert check.find([str(tmp_path)], str(site)) is None
    for name in ("numpy.txt", "numpyish.py", "notes", "Pandas.py"):
        (tmp_path / name).write_text("")
    assert check.find([str(tmp_path)], str(site)) is None
    for name, kind in (
        ("numpy.py", "file"),
        ("pandas", "dir"),
        ("json.cpython-311-x86_64-linux-gnu.so", "file"),
        ("numpy.pyc", "file"),
        ("sitecustomize.py", "file"),
        ("usercustomize.py", "file"),
        ("matplotlibrc", "file"),
    ):
        entry = tmp_path / name
        entry.mkdir() if kind == "dir" else entry.write_text("")
        assert check.find([str(tmp_path)], str(site)) == str(entry), name
        entry.rmdir() if kind == "dir" else entry.unlink()
        assert check.find([str(tmp_path)], str(site)) is None, name


def test_the_user_site_counts_pth_files_and_a_missing_directory_is_fine(tmp_path: Path) -> None:
    check = ShadowCheck(NAMES)
    site = tmp_path / "site"
    assert check.find([str(tmp_path / "missing")], str(site)) is None
    site.mkdir()
    (site / "hook.pth").write_text("")
    assert check.find([], str(site)) == str(site / "hook.pth")
    # A .pth file outside the user site is not read at start-up.
    (site / "hook.pth").rename(tmp_path / "hook.pth")
    assert check.find([str(tmp_path)], str(site)) is None


def test_a_listing_is_cached_by_change_time(tmp_path: Path) -> None:
    check = ShadowCheck(NAMES)
    old = _age(tmp_path)
    assert check.find([str(tmp_path)], None) is None
    # Written behind the check's back with the old change time restored: the
    # cached listing is used, so the new file goes unseen...
    (tmp_path / "numpy.py").write_text("")
    _age(tmp_path, old)
    assert check.find([str(tmp_path)], None) is None
    # ...until the directory changes again.
    (tmp_path / "other.py").write_text("")
    assert check.find([str(tmp_path)], None) == str(tmp_path / "numpy.py")


def test_only_plain_python_runs_can_be_forked() -> None:
    assert job_of(["python3", "--", "main.py"]) == ("file", "main.py")
    assert job_of(["python3", "/run/sandpit/run_code.py"]) == ("code", "")
    assert job_of(["python3", "-c", "pass"]) is None
    assert job_of(["python3", "--", ""]) is None
    assert job_of(["bash"]) is None


def test_the_record_says_which_way_and_why() -> None:
    assert describe(Interpreter(warm=True), enabled=True) == ("warm", None)
    assert describe(None, enabled=True) == (None, None)
    assert describe(None, enabled=False) == ("fresh", OFF)
    assert describe(Interpreter(warm=False, why="starting"), enabled=True) == (
        "fresh",
        "the warm interpreter was not ready yet",
    )
    assert describe(
        Interpreter(warm=False, why="shadowed", detail="/app/numpy.py"), enabled=True
    ) == ("fresh", "/app/numpy.py shadows a module the warm interpreter holds")
