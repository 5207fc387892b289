"""The state a fresh interpreter starts with, made again in a fork of the warm one.

THIS FILE RUNS INSIDE THE SANDBOX (runtime image's Python, sandbox user):
standard library only, nothing from `sandpit`. Used by `warm.py` for each
run forked from the warm interpreter: the environment, the standard
streams, the random state and `sys.path` as `python3 main.py` started now
would have them. Each changes only what differs, because every write to a
page shared with the warm interpreter copies it.
"""

import io
import itertools
import os
import site
import sys
from typing import Any


def set_environ(env: dict[str, str]) -> None:
    """Make `os.environ` (and the C environment under it) `env`, in its order.

    Usually it is this process's own plus the plot channel's variable at
    the end, so only the entries after the longest common start are removed
    and set again: each change writes to (and copies) shared pages. The
    order is the one `execve` with `env` would give, as if all were set anew.
    """
    current = list(os.environ.items())
    wanted = list(env.items())
    same = 0
    while same < min(len(current), len(wanted)) and current[same] == wanted[same]:
        same += 1
    for key, _value in current[same:]:
        del os.environ[key]
    for key, value in wanted[same:]:
        os.environ[key] = value


def new_stdio() -> None:
    """Standard streams as Python makes them at start-up, for the descriptors the run has."""
    old = sys.__stdout__
    buffered = not (old is not None and old.write_through)
    for fd, attr, write in ((0, "stdin", False), (1, "stdout", True), (2, "stderr", True)):
        before = getattr(sys, f"__{attr}__")
        buffering = 0 if (write and not buffered) else -1
        binary = open(fd, "wb" if write else "rb", buffering, closefd=False)  # noqa: SIM115
        raw: Any = binary if buffering == 0 else binary.raw  # type: ignore[attr-defined]
        raw.name = f"<{attr}>"
        line_buffering = buffered and (raw.isatty() or fd == 2)
        stream = io.TextIOWrapper(
            binary,
            encoding=before.encoding if before is not None else "utf-8",
            errors=before.errors if before is not None else "strict",
            newline="\n",
            line_buffering=line_buffering,
            write_through=not buffered,
        )
        stream.mode = "w" if write else "r"  # type: ignore[misc]
        setattr(sys, attr, stream)
        setattr(sys, f"__{attr}__", stream)


def reseed() -> None:
    """New random state, as a fresh interpreter's imports would have drawn it.

    And a new thread counter: a thread started while the preload set was
    imported (matplotlib's font-cache timer) must not shift the default
    names of the program's threads ("Thread-1").
    """
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._counter = itertools.count(1).__next__  # type: ignore[attr-defined]
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def fix_path(path0: str) -> None:
    """`sys.path` as a fresh `python3` started now would have it."""
    sys.path[0] = path0
    user_site = site.getusersitepackages()
    if site.ENABLE_USER_SITE:
        present = os.path.isdir(user_site)
        if present and user_site not in sys.path:
            suffixes = ("site-packages", "dist-packages")
            system = [i for i, p in enumerate(sys.path) if p.endswith(suffixes)]
            sys.path.insert(system[0] if system else len(sys.path), user_site)
        elif not present and user_site in sys.path:
            sys.path.remove(user_site)
    importlib = sys.modules.get("importlib")
    if importlib is not None:
        importlib.invalidate_caches()
