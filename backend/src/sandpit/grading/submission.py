"""The copy of a submission that gets checked: its files, minus what could subvert the checks.

Left out (each with a note for the reviewer, naming the file):
- `conftest.py` anywhere (pytest also runs with `--noconftest`);
- `sitecustomize.py`, `usercustomize.py` and `*.pth` files anywhere (the test
  process also runs with `-I -S`, so none of them would be read);
- top-level modules or packages named like pytest and its parts, the
  harness, or one of the assignment's test modules (/app also comes last on
  the test process's path, so none could shadow those);
- links (a submission is plain files), and installed packages or caches
  (`.local`, `.venv`, `__pycache__`, `.cache`: the checks use the image's packages).
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

SHADOWING = frozenset({"pytest", "_pytest", "pluggy", "py", "iniconfig", "sandpit_grader"})
ENVIRONMENT_DIRS = frozenset({".local", ".venv", "__pycache__", ".cache"})
STARTUP_FILES = frozenset({"sitecustomize.py", "usercustomize.py"})


def test_module_names(test_paths: Iterable[str]) -> frozenset[str]:
    """The importable names of the assignment's test files (`tests/test_a.py` → `test_a`)."""
    return frozenset(PurePosixPath(path).stem for path in test_paths)


def why_left_out(
    relative: PurePosixPath, *, is_dir: bool, test_names: frozenset[str]
) -> str | None:
    """Why the checks leave this path of the submission out, as a note; None to keep it."""
    name = relative.name
    top = len(relative.parts) == 1
    module = name[:-3] if name.endswith(".py") and not is_dir else name
    if is_dir and name in ENVIRONMENT_DIRS:
        return None if name == "__pycache__" else f"{relative}/ (installed packages) was not used."
    if not is_dir and name == "conftest.py":
        return f"{relative} was left out: pytest runs the checks without conftest.py files."
    if not is_dir and (name in STARTUP_FILES or name.endswith(".pth")):
        return f"{relative} was left out: Python's startup hooks are off for the checks."
    if top and (is_dir or name.endswith(".py")) and module in SHADOWING:
        return f"{relative} was left out: it has the name of a part of pytest or of the harness."
    if top and (is_dir or name.endswith(".py")) and module in test_names:
        return f"{relative} was left out: it has the name of one of the assignment's test modules."
    return None


def copy_submission(source: Path, target: Path, test_names: frozenset[str]) -> list[str]:
    """Copy `source` into the new directory `target` without what `why_left_out` names.

    Never follows a link. Returns the notes, in path order.
    """
    notes: list[str] = []
    target.mkdir(mode=0o700)
    for directory, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(directory)
        relative_dir = PurePosixPath(here.relative_to(source).as_posix())
        for name in sorted(dirnames):
            relative = _join(relative_dir, name)
            if (here / name).is_symlink():
                notes.append(f"{relative} was left out: it is a link.")
                dirnames.remove(name)
                continue
            note = why_left_out(relative, is_dir=True, test_names=test_names)
            if note is not None or name in ENVIRONMENT_DIRS:
                if note is not None:
                    notes.append(note)
                dirnames.remove(name)
                continue
            (target / relative).mkdir(mode=0o700)
        for name in sorted(filenames):
            relative = _join(relative_dir, name)
            mode = os.lstat(here / name).st_mode
            if not stat.S_ISREG(mode):
                notes.append(f"{relative} was left out: it is not a plain file.")
                continue
            note = why_left_out(relative, is_dir=False, test_names=test_names)
            if note is not None:
                notes.append(note)
                continue
            shutil.copyfile(here / name, target / relative, follow_symlinks=False)
    return sorted(notes)


def _join(directory: PurePosixPath, name: str) -> PurePosixPath:
    return PurePosixPath(name) if str(directory) == "." else directory / name
