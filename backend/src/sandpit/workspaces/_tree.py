"""Walking and removing whole workspace trees, bounded and without following links.

Sandbox code shapes these trees: it can create a million files, nest folders
deeper than PATH_MAX (and than Python's recursion limit), give names invalid
UTF-8 or control characters, and swap a folder for a link while we walk. So
the walks here

- hold one folder fd at a time (a `_Cursor`): they go down by opening a
  name with O_NOFOLLOW | O_DIRECTORY, and back up by opening ".." and
  checking it is the very folder (device and inode) they came from, falling
  back to a fresh resolution from the root if the tree was moved meanwhile;
- stat entries with ``follow_symlinks=False`` and never enter a link;
- are bounded: `scan` stops after a fixed number of entries and below the
  depth no valid path can reach; `remove_tree` is iterative, so any depth
  works, in time linear in the size of the tree;
- treat names that appear or vanish mid-walk as normal, not as errors.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from dataclasses import dataclass, field
from typing import Literal

from sandpit.errors import InvalidPath
from sandpit.workspaces._resolve import DIR_FLAGS, ResolveError, Resolver
from sandpit.workspaces.paths import MAX_PATH_BYTES, validate_path

Kind = Literal["file", "dir", "link", "other"]

TEMP_PREFIX = ".sandpit-tmp-"
"""Names of our in-flight temporary files start with this; they are reserved."""

STALE_TEMP_SECONDS = 15 * 60
"""A temporary file older than this was left by a crash and may be removed."""

# The deepest valid path is 512 one-byte names ("a/a/.../a" is 1023 bytes);
# anything deeper cannot be named through the API, so the scan stops there.
MAX_SCAN_DEPTH = (MAX_PATH_BYTES + 1) // 2

# How many times `remove_tree` starts over when programs keep adding files.
_REMOVE_ATTEMPTS = 10


class TooManyEntries(Exception):
    """The tree holds more entries than the scan's bound."""


class TreeChanged(Exception):
    """A folder being walked was moved or swapped for a link part-way through."""


@dataclass(frozen=True)
class Found:
    """One entry met by `scan`.

    `addressable` is true when the API can name the entry: every name on its
    path passes `validate_path` unchanged (so is already NFC) and is not
    reserved, and the whole path fits `MAX_PATH_BYTES`.
    """

    parts: tuple[str, ...]
    kind: Kind
    size: int
    mtime: float
    addressable: bool


def kind_of(mode: int) -> Kind:
    """Map an lstat mode to the kind shown in listings."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def is_reserved(name: str) -> bool:
    """Whether `name` is reserved for our temporary files."""
    return name.startswith(TEMP_PREFIX)


def _addressable(parent_addressable: bool, parts: tuple[str, ...]) -> bool:
    """Whether the API can name `parts`, given whether it can name their parent."""
    name = parts[-1]
    try:
        valid = validate_path(name) == (name,) and not is_reserved(name)
    except InvalidPath:  # e.g. invalid UTF-8, which os gives us as surrogates
        return False
    # Every name is valid UTF-8 by now (the parent's names were checked too).
    return valid and parent_addressable and len("/".join(parts).encode()) <= MAX_PATH_BYTES


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


@dataclass
class _Level:
    """One folder on the cursor's way down: its name in its parent, identity, work left."""

    name: str
    identity: tuple[int, int]
    pending: list[str] = field(default_factory=list)
    addressable: bool = True


class _Cursor:
    """An fd on one folder of a tree, and the checked way back up to where it started.

    Starts at ``base`` (opened through `resolver` from `root_fd`). `down`
    enters a subfolder by name, never through a link; `up` returns to the
    parent. `levels[i]` describes the folder at depth i below `base`.
    """

    def __init__(self, resolver: Resolver, root_fd: int, base: tuple[str, ...]) -> None:
        self.resolver = resolver
        self.root_fd = root_fd
        self.base = base
        self.fd = resolver.open_dir(root_fd, base)  # ResolveError for the caller
        self.levels = [_Level("", _identity(self.fd))]

    def close(self) -> None:
        os.close(self.fd)

    @property
    def parts(self) -> tuple[str, ...]:
        """The current folder's path from the root."""
        return self.base + tuple(level.name for level in self.levels[1:])

    def down(self, name: str) -> _Level | None:
        """Enter the subfolder `name`; None (staying put) if it is gone, a link or a file."""
        try:
            child = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                return None
            raise
        os.close(self.fd)
        self.fd = child
        level = _Level(name, _identity(child))
        self.levels.append(level)
        return level

    def up(self) -> str:
        """Return to the parent folder; return the name of the folder left.

        Raises `TreeChanged` if the parent is no longer the folder we came
        through and cannot be found again by name from the root.
        """
        expected = self.levels[-2].identity
        parent = os.open("..", DIR_FLAGS, dir_fd=self.fd)  # ".." is never a link
        if _identity(parent) != expected:
            # Someone moved our folder; find the parent again by its names.
            os.close(parent)
            try:
                parent = self.resolver.open_dir(self.root_fd, self.parts[:-1])
            except ResolveError as exc:
                raise TreeChanged(str(exc)) from exc
            if _identity(parent) != expected:
                os.close(parent)
                raise TreeChanged("a folder was replaced while it was walked")
        os.close(self.fd)
        self.fd = parent
        return self.levels.pop().name


def scan(
    resolver: Resolver, root_fd: int, *, max_entries: int, sweep_stale_temp: bool = False
) -> list[Found]:
    """Return every entry beneath `root_fd`, depth first, in no particular order.

    Links and other non-folders are reported, never followed. Folders deeper
    than `MAX_SCAN_DEPTH`, folders whose permissions forbid us, and folders
    moved away while we are in them, are not (fully) entered. With
    `sweep_stale_temp`, temporary files older than `STALE_TEMP_SECONDS` are
    removed and not reported.

    Raises `TooManyEntries` once more than `max_entries` entries were seen.
    """
    found: list[Found] = []
    stale_before = time.time() - STALE_TEMP_SECONDS if sweep_stale_temp else None
    cursor = _Cursor(resolver, root_fd, ())
    try:
        level: _Level | None = cursor.levels[0]
        while True:
            if level is not None:
                _list_folder(cursor, level, found, max_entries, stale_before)
            top = cursor.levels[-1]
            if top.pending:
                name = top.pending.pop()
                try:
                    level = cursor.down(name)
                except PermissionError:
                    level = None  # chmod 000 by its owner: list it, skip its contents
                if level is not None:
                    level.addressable = _addressable(top.addressable, cursor.parts)
                continue
            if len(cursor.levels) == 1:
                return found
            try:
                cursor.up()
            except TreeChanged:
                return found  # the tree moved under us: report what we saw
            level = None
    finally:
        cursor.close()


def _list_folder(
    cursor: _Cursor,
    level: _Level,
    found: list[Found],
    max_entries: int,
    stale_before: float | None,
) -> None:
    """Append the entries of the cursor's folder to `found`; queue its subfolders."""
    parts = cursor.parts
    with os.scandir(cursor.fd) as entries:
        for entry in entries:
            if len(found) >= max_entries:
                raise TooManyEntries(f"more than {max_entries} entries")
            try:
                st = entry.stat(follow_symlinks=False)
            except (FileNotFoundError, PermissionError):
                continue
            kind = kind_of(st.st_mode)
            name = entry.name
            if (
                stale_before is not None
                and kind == "file"
                and is_reserved(name)
                and st.st_mtime < stale_before
            ):
                # unlink() removes the name itself, never a link's target.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=cursor.fd)
                continue
            child = (*parts, name)
            addressable = _addressable(level.addressable, child)
            size = st.st_size if kind == "file" else 0
            found.append(Found(child, kind, size, st.st_mtime, addressable))
            if kind == "dir" and len(child) < MAX_SCAN_DEPTH:
                level.pending.append(name)


def remove_tree(resolver: Resolver, root_fd: int, parts: tuple[str, ...]) -> None:
    """Delete the folder `parts` (beneath `root_fd`) and everything in it.

    Links inside are removed themselves, never followed. A folder that
    vanishes meanwhile counts as removed. Raises `TreeChanged` if the folder
    is swapped for a link or file, or keeps filling up while we empty it.
    """
    for _ in range(_REMOVE_ATTEMPTS):
        try:
            cursor = _Cursor(resolver, root_fd, parts)
        except ResolveError as exc:
            if exc.reason == "missing":
                return
            raise TreeChanged(str(exc)) from exc
        try:
            _empty_tree(cursor)
        finally:
            cursor.close()
        try:
            parent_fd = resolver.open_dir(root_fd, parts[:-1])
        except ResolveError as exc:
            raise TreeChanged(str(exc)) from exc
        try:
            os.rmdir(parts[-1], dir_fd=parent_fd)
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                raise
            continue  # a program added files meanwhile: go again
        finally:
            os.close(parent_fd)
        return
    raise TreeChanged("the folder kept changing while it was deleted")


def _empty_tree(cursor: _Cursor) -> None:
    """Remove everything inside the cursor's starting folder, leaving it empty."""
    cursor.levels[0].pending = _empty_folder(cursor.fd)
    while True:
        top = cursor.levels[-1]
        if top.pending:
            level = cursor.down(top.pending.pop())
            if level is not None:
                level.pending = _empty_folder(cursor.fd)
            continue
        if len(cursor.levels) == 1:
            return
        name = cursor.up()
        with contextlib.suppress(FileNotFoundError):
            _remove_folder_or_file(cursor.fd, name, cursor.levels[-1].pending)


def _empty_folder(fd: int) -> list[str]:
    """Remove what can be removed in the folder `fd` at once.

    Unlinks every non-folder (links included, as themselves) and removes
    empty subfolders. Returns the names of subfolders that are not empty.
    """
    busy: list[str] = []
    with os.scandir(fd) as entries:
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    _remove_folder_or_file(fd, name, busy)
                else:
                    _remove_file_or_folder(fd, name, busy)
            except FileNotFoundError:
                continue
    return busy


def _remove_folder_or_file(fd: int, name: str, busy: list[str]) -> None:
    """rmdir `name`, or unlink it if it became a file; add it to `busy` if not empty."""
    try:
        os.rmdir(name, dir_fd=fd)
    except NotADirectoryError:  # it became a file or a link since readdir
        os.unlink(name, dir_fd=fd)
    except OSError as exc:
        if exc.errno != errno.ENOTEMPTY:
            raise
        busy.append(name)


def _remove_file_or_folder(fd: int, name: str, busy: list[str]) -> None:
    """unlink `name`, or treat it as a folder if it became one."""
    try:
        os.unlink(name, dir_fd=fd)
    except IsADirectoryError:  # it became a folder since readdir
        _remove_folder_or_file(fd, name, busy)
