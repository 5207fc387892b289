"""Handing a workspace tree to a sandbox's host uid, without following links."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def chown_tree(root: Path, uid: int, gid: int) -> None:
    """Make `root` and everything beneath it belong to `uid`:`gid`.

    Runs before the sandbox starts, but the tree was shaped by earlier
    sandbox code, so: `os.fwalk` walks by directory descriptors and does not
    follow links, and every chown is `follow_symlinks=False` relative to the
    directory descriptor (a link is re-owned itself, never its target).
    Entries that vanish mid-walk are skipped.
    """
    os.chown(root, uid, gid, follow_symlinks=False)
    for _dirpath, dirnames, filenames, dir_fd in os.fwalk(root, follow_symlinks=False):
        for name in (*dirnames, *filenames):
            with contextlib.suppress(FileNotFoundError):
                os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
