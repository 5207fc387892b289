"""Opening folders beneath a workspace root without following symbolic links.

This is the heart of security invariant 4: sandbox code can plant a link
anywhere in its workspace (``ln -s /etc evil``), and host-side code that
followed it would read or write outside the workspace, as in Judge0's
CVE-2024-28185 and CVE-2024-28189. A `Resolver` opens a chain of folder names
beneath a directory fd and refuses a link at any step. Two implementations
with identical results:

- `Openat2Resolver`: one openat2(2) call with RESOLVE_BENEATH |
  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS; the kernel refuses links.
- `WalkResolver`: one ``openat(name, O_NOFOLLOW | O_DIRECTORY)`` per name,
  the fallback for kernels without openat2 (before 5.6, or seccomp-filtered).

When openat2 refuses, the walk repeats the lookup to say which name failed and
why, so both raise the same `ResolveError`. Callers then act on the final name
with ``dir_fd=`` and no-follow flags (see `sandpit.workspaces.fs`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from typing import Literal, Protocol

from sandpit.workspaces import _syscalls

Reason = Literal["missing", "link", "not_dir"]

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
"""Flags for every folder we open: never a link, never inherited by children."""


class ResolveError(Exception):
    """Resolution stopped at ``parts[:depth]`` for `reason`.

    ``missing``: that name does not exist; ``link``: it is a symbolic link;
    ``not_dir``: it exists but is not a folder.
    """

    def __init__(self, depth: int, reason: Reason) -> None:
        super().__init__(f"resolution stopped at component {depth}: {reason}")
        self.depth = depth
        self.reason = reason


class Resolver(Protocol):
    """Opens folders beneath a directory fd, never following a link."""

    name: str

    def open_dir(self, dir_fd: int, parts: Sequence[str]) -> int:
        """Open the folder ``parts`` beneath `dir_fd`; `parts` may be empty (the fd itself).

        Returns a new fd opened with `DIR_FLAGS`, which the caller closes.
        Raises `ResolveError` if a name is missing, a link or not a folder;
        other `OSError`s (EACCES, EMFILE, ...) propagate unchanged.
        """
        ...


class WalkResolver:
    """Opens one name at a time with O_NOFOLLOW | O_DIRECTORY; works on any Linux."""

    name = "walk"

    def open_dir(self, dir_fd: int, parts: Sequence[str]) -> int:
        """See `Resolver.open_dir`."""
        # A fresh open of "." rather than dup(): a dup shares the directory
        # offset, and two scandir() calls on shared offsets would interfere.
        fd = os.open(".", DIR_FLAGS, dir_fd=dir_fd)
        try:
            for depth, name in enumerate(parts, start=1):
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    reason = _classify(fd, name, exc)
                    if reason is None:
                        raise
                    raise ResolveError(depth, reason) from exc
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd


class Openat2Resolver:
    """Opens the whole chain with a single openat2 call; needs Linux 5.6+."""

    name = "openat2"

    _RESOLVE = (
        _syscalls.RESOLVE_BENEATH | _syscalls.RESOLVE_NO_SYMLINKS | _syscalls.RESOLVE_NO_MAGICLINKS
    )
    # Errors after which the walk explains (or, if the tree changed meanwhile,
    # completes) the lookup: EAGAIN is openat2's answer to a concurrent rename,
    # ENAMETOOLONG to paths longer than PATH_MAX, which the walk can still open.
    _EXPLAINED = frozenset(
        {errno.ENOENT, errno.ELOOP, errno.ENOTDIR, errno.EXDEV, errno.EAGAIN, errno.ENAMETOOLONG}
    )

    def open_dir(self, dir_fd: int, parts: Sequence[str]) -> int:
        """See `Resolver.open_dir`."""
        path = "/".join(parts) if parts else "."
        try:
            return _syscalls.openat2(dir_fd, path, DIR_FLAGS, self._RESOLVE)
        except OSError as exc:
            if exc.errno not in self._EXPLAINED:
                raise
        return WalkResolver().open_dir(dir_fd, parts)


def _classify(dir_fd: int, name: str, exc: OSError) -> Reason | None:
    """Why opening `name` as a folder failed, or None for an unrelated error."""
    if exc.errno == errno.ENOENT:
        return "missing"
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
        return None
    # O_NOFOLLOW | O_DIRECTORY answers ENOTDIR for a link as for a file;
    # lstat tells them apart.
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return "missing"
    return "link" if stat.S_ISLNK(st.st_mode) else "not_dir"


def available_resolvers() -> list[Resolver]:
    """Every resolver that works on this machine, the preferred one first."""
    found: list[Resolver] = []
    if _syscalls.openat2_supported():
        found.append(Openat2Resolver())
    found.append(WalkResolver())
    return found


def default_resolver() -> Resolver:
    """openat2 where the kernel allows it, else the walk."""
    return available_resolvers()[0]
