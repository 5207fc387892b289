"""Would this run import something other than what the warm interpreter holds?

THIS FILE RUNS INSIDE THE SANDBOX, in the agent: standard library only.

A fork of the warm interpreter already holds the preload set and every
module it pulled in. A fresh `python3 main.py` would instead find, first on
its path, whatever the workspace puts there: a `numpy.py` or `pandas/` in
the script's directory or /app, a package pip installed into the user site,
a `.pth` file (run at start-up), a `sitecustomize`/`usercustomize`, a
`matplotlibrc` (read when matplotlib is imported). Any of
those, and the run must start fresh. This is decided from directory
listings, cached by each directory's change time (and inode), so a run
costs a few `stat` calls unless something changed.

Conservative on purpose: a directory named like a held module, even one a
regular package further down the path would beat, counts as shadowing; the
cost of a false alarm is one fresh start.
"""

import os
import time
from importlib.machinery import all_suffixes

# Imported at start-up from anywhere on the path, preloaded or not.
STARTUP_HOOKS = frozenset({"sitecustomize", "usercustomize"})
# Files a preloaded library reads when it is imported (matplotlib: the
# working directory's matplotlibrc).
IMPORT_TIME_FILES = frozenset({"matplotlibrc"})
RACY_NS = 100_000_000


class ShadowCheck:
    """`find(dirs, user_site)`: the first workspace entry that would shadow `names`."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names | STARTUP_HOOKS
        self.suffixes = tuple(all_suffixes())
        # directory -> ((st_ino, st_mtime_ns) or None if missing, first shadowing entry)
        self._cache: dict[str, tuple[tuple[int, int] | None, str | None]] = {}

    def find(self, dirs: list[str], user_site: str | None) -> str | None:
        """The path of the first shadowing entry in `dirs` and `user_site`, or None."""
        for directory in dirs:
            hit = self._cached(directory, pth=False)
            if hit is not None:
                return hit
        if user_site:
            return self._cached(user_site, pth=True)
        return None

    def _cached(self, directory: str, *, pth: bool) -> str | None:
        try:
            st = os.stat(directory)
            key: tuple[int, int] | None = (st.st_ino, st.st_mtime_ns)
        except OSError:
            key = None
        cached = self._cache.get(directory)
        if cached is not None and cached[0] == key:
            return cached[1]
        hit = None if key is None else self._scan(directory, pth=pth)
        # A directory changed within the last moments may change again within
        # the same tick of its clock, unseen: such a listing is not kept
        # (racy-git's rule).
        if key is None or time.time_ns() - key[1] > RACY_NS:
            self._cache[directory] = (key, hit)
        return hit

    def _scan(self, directory: str, *, pth: bool) -> str | None:
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            return None
        for name in entries:
            if (pth and name.endswith(".pth")) or name in IMPORT_TIME_FILES:
                return os.path.join(directory, name)
            stem = name.partition(".")[0]
            if stem not in self.names:
                continue
            full = os.path.join(directory, name)
            if name == stem and os.path.isdir(full):
                return full
            if any(name == stem + suffix for suffix in self.suffixes) or name.endswith(".so"):
                return full
        return None
