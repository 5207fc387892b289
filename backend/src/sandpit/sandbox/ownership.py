"""Opening a workspace for a sandbox and handing its tree to the sandbox's host uid and gid.

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


# The workspace's top folder: its owner (the workspace's sandbox) does
# anything, its group (every sandbox on the workspace, the language servers'
# included) lists and enters it, nobody else can even enter. No setgid bit:
# every writer already makes entries with the workspace's gid (its sandbox
# runs with it as primary group; the file API gives new entries the top
# folder's owner and group), and a setgid bit would spread to every folder the
# user makes (`drwxr-sr-x` in `ls -l`) for nothing.
WORKSPACE_MODE = 0o750


def chown_tree(root_fd: int, uid: int, gid: int) -> None:
    """Make the directory `root_fd` and everything beneath it belong to `uid`:`gid`.

    `uid` -1 keeps each entry's owner (only the group changes). `os.fwalk`
    walks by directory descriptors and does not follow links, and every
    chown is `follow_symlinks=False` relative to the directory descriptor (a
    link is re-owned itself, never its target). Entries that already belong
    to `uid`:`gid` are left alone (a chown would still rewrite their inode),
    and entries that vanish mid-walk are skipped.
    """
    os.fchown(root_fd, uid, gid)
    for _dirpath, dirnames, filenames, dir_fd in os.fwalk(".", dir_fd=root_fd):
        for name in (*dirnames, *filenames):
            with contextlib.suppress(FileNotFoundError):
                found = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if found.st_gid == gid and uid in (-1, found.st_uid):
                    continue
                os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)


def hand_over(root_fd: int, uid: int, gid: int, *, share: bool) -> None:
    """Prepare the workspace `root_fd` for a sandbox running as host `uid`:`gid`.

    `gid` is the workspace's own (`uids.GroupPool`). The whole tree becomes
    `uid`:`gid` (`chown_tree`), and the top folder `WORKSPACE_MODE` (0750):
    only the workspace's own sandboxes can enter it, whatever the modes
    beneath (a workspace of an earlier version, made 0755 for a language
    server, is closed again by its next sandbox). With `share`
    (`SandboxSpec.share_workspace`: a second, read-only sandbox on the
    workspace, as the language servers' is) owners stay as they are, so the
    workspace's own sandbox keeps writing, and only the group becomes `gid`:
    the second sandbox reads what is group-readable.
    """
    chown_tree(root_fd, -1 if share else uid, gid)
    os.fchmod(root_fd, WORKSPACE_MODE)
