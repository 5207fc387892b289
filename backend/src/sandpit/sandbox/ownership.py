"""Opening a workspace for a sandbox and handing its tree to the sandbox's host uid.

Both run before the sandbox starts, but the tree was shaped by earlier
sandbox code, so neither ever follows a link.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from sandpit.sandbox.base import SandboxError


def open_workspace(directory: Path) -> int:
    """A descriptor of the workspace directory itself, never of what a link points to.

    Raises `SandboxError` if it is a link, not a directory, or missing. The
    descriptor is what bwrap binds at /app (`--bind-fd`), so a directory
    swapped for a link between the check and the mount cannot matter.
    """
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SandboxError(
            "The workspace's directory is missing or is not a plain directory; "
            "the sandbox was not started."
        ) from exc
    if not stat.S_ISDIR(os.fstat(fd).st_mode):  # pragma: no cover - O_DIRECTORY guarantees it
        os.close(fd)
        raise SandboxError("The workspace's directory is not a directory.")
    return fd


def chown_tree(root_fd: int, uid: int, gid: int) -> None:
    """Make the directory `root_fd` and everything beneath it belong to `uid`:`gid`.

    `os.fwalk` walks by directory descriptors and does not follow links, and
    every chown is `follow_symlinks=False` relative to the directory
    descriptor (a link is re-owned itself, never its target). Entries that
    vanish mid-walk are skipped.
    """
    os.fchown(root_fd, uid, gid)
    for _dirpath, dirnames, filenames, dir_fd in os.fwalk(".", dir_fd=root_fd):
        for name in (*dirnames, *filenames):
            with contextlib.suppress(FileNotFoundError):
                os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def hand_over(root_fd: int, uid: int, *, share: bool) -> None:
    """Prepare the workspace `root_fd` for a sandbox running as host `uid`.

    By default the whole tree becomes `uid`'s (`chown_tree`). With `share`
    (`SandboxSpec.share_workspace`: a second, read-only sandbox on a workspace,
    as the language servers' is) owners stay as they are, so the workspace's
    own sandbox keeps writing, and the top folder is made searchable and
    listable by others: the second sandbox reads what is world-readable.
    """
    if share:
        mode = stat.S_IMODE(os.fstat(root_fd).st_mode)
        os.fchmod(root_fd, mode | 0o055)
    else:
        chown_tree(root_fd, uid, uid)
