"""File-system steps on an image tree: remove, overlay, lock down, delete safely.

The tree is built by Debian's packages and pip, not by users, but it holds
absolute symlinks (`/dev/fd -> /proc/self/fd`) that would point into the host
if followed from outside. So nothing here follows a symlink out of the tree:
globbing does not descend through symlinks, every target's parent must
resolve inside the tree, and deletion refuses any tree with a mount in it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

# Bits no file in the image keeps: nothing is writable but by root, and no
# set-id program can raise privileges (sandboxes also run with no_new_privs).
_STRIPPED_BITS = stat.S_IWGRP | stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX


class TreeError(Exception):
    """A tree is not in the state a step needs (a mount inside, a special file...)."""


def parse_mountinfo(text: str) -> list[str]:
    """The mount points listed in a /proc/PID/mountinfo text, unescaped."""
    points = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            points.append(_unescape_octal(fields[4]))
    return points


def _unescape_octal(text: str) -> str:
    # mountinfo writes space, tab, newline and backslash as \ooo.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def _entries(root: Path) -> Iterator[str]:
    """Every path in the tree, `root` first, each once; symlinks are not followed."""
    yield str(root)
    for directory, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            yield os.path.join(directory, name)


def mounts_under(path: Path, mountinfo: str | None = None) -> list[str]:
    """Mount points at or below `path` (resolved) in this process's namespace."""
    if mountinfo is None:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    base = os.path.realpath(path)
    prefix = base.rstrip("/") + "/"
    return [p for p in parse_mountinfo(mountinfo) if p == base or p.startswith(prefix)]


def remove_tree(path: Path) -> None:
    """Delete a directory tree, refusing if anything is mounted inside it.

    A build killed at the wrong moment could leave the host's /dev or /proc
    mounted in its tree; deleting through such a mount would destroy host files.
    """
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not path.is_dir():
        raise TreeError(f"{path} is not a directory")
    mounted = mounts_under(path)
    if mounted:
        raise TreeError(f"refusing to delete {path}: {', '.join(mounted)} is mounted inside it")
    shutil.rmtree(path)


def _inside(root: Path, path: Path) -> bool:
    """True when `path`'s parent resolves inside `root`: no symlink leads out."""
    real_root = os.path.realpath(root)
    real_parent = os.path.realpath(path.parent)
    return real_parent == real_root or real_parent.startswith(real_root.rstrip("/") + "/")


def remove_paths(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """Remove everything matching the globs (relative to `root`); return what went.

    A symlink that matches is removed itself, never what it points to.
    """
    removed: list[str] = []
    for pattern in patterns:
        for path in sorted(root.glob(pattern), reverse=True):
            if not os.path.lexists(path):
                continue  # inside a directory an earlier match removed
            if not _inside(root, path):
                raise TreeError(f"{path} lies outside {root} through a symlink")
            if path.is_dir() and not path.is_symlink():
                remove_tree(path)
            else:
                path.unlink()
            removed.append(path.relative_to(root).as_posix())
    return removed


def copy_overlay(overlay: Path, root: Path) -> list[str]:
    """Copy the overlay's files into the tree, replacing what is there.

    Files get mode 0755 if executable in the overlay, else 0644; missing
    directories are created 0755. Returns the relative paths written.
    """
    written: list[str] = []
    if not overlay.is_dir():
        return written
    for source in sorted(overlay.rglob("*")):
        relative = source.relative_to(overlay)
        target = root / relative
        if not _inside(root, target):
            raise TreeError(f"{target} lies outside {root} through a symlink")
        if source.is_dir():
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                target.unlink()
            if not target.is_dir():
                target.mkdir()
                os.chmod(target, 0o755)  # noqa: S103 - image directories are world-readable
            continue
        if target.is_symlink() or target.is_file():
            target.unlink()
        shutil.copyfile(source, target, follow_symlinks=False)
        os.chmod(target, 0o755 if source.stat().st_mode & 0o111 else 0o644)
        written.append(relative.as_posix())
    return written


def make_mount_points(root: Path, names: tuple[str, ...]) -> None:
    """Ensure each name is an empty directory, mode 0755, for a backend to mount over."""
    for name in names:
        target = root / name
        if not _inside(root, target):
            raise TreeError(f"{target} lies outside {root} through a symlink")
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            target.unlink()
        target.mkdir(mode=0o755, exist_ok=True)
        if any(target.iterdir()):
            raise TreeError(f"mount point {name} is not empty")
        os.chmod(target, 0o755)  # noqa: S103 - a root-owned mount point, readable by all


def lock_down(root: Path) -> None:
    """Make every entry owned by root:root and writable only by its owner.

    Also clears set-id and sticky bits. Refuses device nodes, FIFOs and sockets:
    an image holds directories, regular files and symlinks only. Needs root.
    """
    for path in _entries(root):
        info = os.lstat(path)
        if (info.st_uid, info.st_gid) != (0, 0):
            os.lchown(path, 0, 0)
        if stat.S_ISLNK(info.st_mode):
            continue
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            raise TreeError(f"special file in the image: {path}")
        mode = stat.S_IMODE(info.st_mode)
        if mode & _STRIPPED_BITS:
            os.chmod(path, mode & ~_STRIPPED_BITS)


def lockdown_violations(root: Path) -> list[str]:
    """Entries of the tree that `lock_down` would change (empty when locked down)."""
    found: list[str] = []
    for path in _entries(root):
        info = os.lstat(path)
        owned = (info.st_uid, info.st_gid) == (0, 0)
        if stat.S_ISLNK(info.st_mode):
            bad = not owned
        else:
            plain = stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)
            bad = not owned or not plain or bool(info.st_mode & _STRIPPED_BITS)
        if bad:
            found.append(os.path.relpath(path, root))
    return found


def disk_usage(root: Path) -> int:
    """Bytes the tree occupies on disk, hard links counted once (like `du`)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for path in _entries(root):
        info = os.lstat(path)
        key = (info.st_dev, info.st_ino)
        if key not in seen:
            seen.add(key)
            total += info.st_blocks * 512
    return total
