"""Opening a workspace's root and the folder that holds a name, never following a link.

The `Resolver` (`sandpit.workspaces._resolve`) does the opening; this module
turns what it refuses into the domain errors the file API answers with,
creates missing parents when asked, and closes every fd it yields.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from sandpit.errors import BadRequest, Conflict, InvalidPath, NotFound, SandpitError
from sandpit.workspaces import _io
from sandpit.workspaces._checks import link_sentence
from sandpit.workspaces._resolve import DIR_FLAGS, ResolveError, Resolver
from sandpit.workspaces.paths import join_display


class WorkspaceRootError(RuntimeError):
    """The workspace root is a link or not a folder: a platform fault, not a user error."""


@contextlib.contextmanager
def open_root(root: Path) -> Iterator[int]:
    """Yield an fd of the root folder, opened without following a link.

    Raises `NotFound` if it is missing, `WorkspaceRootError` if it is a link
    or not a folder.
    """
    try:
        fd = os.open(root, DIR_FLAGS)
    except FileNotFoundError:
        raise NotFound("The workspace's folder does not exist on disk.") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise WorkspaceRootError(
                f"The workspace root {root} is a link or not a folder; refusing it."
            ) from exc
        raise
    try:
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_parent(
    resolver: Resolver, root_fd: int, parts: tuple[str, ...], *, create: bool = False
) -> Iterator[int]:
    """Yield an fd of the folder holding ``parts[-1]``, creating it if `create`.

    Raises the domain error for a missing, link or non-folder name on the way.
    """
    folders = parts[:-1]
    try:
        fd = resolver.open_dir(root_fd, folders)
    except ResolveError as exc:
        if not (create and exc.reason == "missing"):
            raise _resolve_failure(parts, exc, creating=create) from None
        fd = _make_folders(resolver, root_fd, parts, exc.depth - 1)
    try:
        yield fd
    finally:
        os.close(fd)


def lstat_path(resolver: Resolver, root_fd: int, parts: tuple[str, ...]) -> os.stat_result | None:
    """lstat the entry at `parts`; None if it or a parent folder is missing."""
    try:
        with open_parent(resolver, root_fd, parts) as dir_fd:
            return _io.lstat(dir_fd, parts[-1])
    except NotFound:  # also a file where a folder should be; creating says so
        return None


@contextlib.contextmanager
def permission_errors(shown: str) -> Iterator[None]:
    """Turn EACCES/EPERM (sandbox code may chmod its files) into a user's error.

    Where the server runs without root, a file or folder made unreadable by
    its owner is the user's business, not a platform failure.
    """
    try:
        yield
    except PermissionError:
        raise BadRequest(
            f"The permissions of '{shown}' or a folder above it do not allow this; "
            "change them with chmod in the terminal."
        ) from None


def _make_folders(resolver: Resolver, root_fd: int, parts: tuple[str, ...], existing: int) -> int:
    """Create ``parts[existing:-1]`` one level at a time; return an fd of the last."""
    try:
        fd = resolver.open_dir(root_fd, parts[:existing])
    except ResolveError as exc:
        raise _resolve_failure(parts, exc, creating=True) from None
    owner = _io.new_owner(root_fd)
    try:
        for depth in range(existing + 1, len(parts)):
            _io.make_folder(fd, parts[depth - 1], owner)
            try:
                child = resolver.open_dir(fd, parts[depth - 1 : depth])
            except ResolveError as exc:
                failure = ResolveError(depth, exc.reason)
                raise _resolve_failure(parts, failure, creating=True) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def _resolve_failure(parts: tuple[str, ...], exc: ResolveError, *, creating: bool) -> SandpitError:
    where = join_display(parts[: exc.depth])
    if exc.reason == "link":
        return InvalidPath(link_sentence(where))
    if exc.reason == "not_dir":
        sentence = f"'{where}' is a file, not a folder."
        return Conflict(sentence) if creating else NotFound(sentence)
    return NotFound(f"'{join_display(parts)}' does not exist.")
