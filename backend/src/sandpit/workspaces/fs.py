"""File operations beneath one workspace root that never follow a link.

`WorkspaceFS` is what the file API calls (from a worker thread: every method
is synchronous and blocking). Sandbox code writes into the same folder at the
same time and may plant links, FIFOs, hard links and odd names, so:

- every path is checked by `validate_path` first;
- the root is opened with O_NOFOLLOW, and folders beneath it through a
  `Resolver` that refuses a link at any step (security invariant 4);
- the final name is acted on with ``dir_fd=`` and no-follow flags.

How links are treated, everywhere the same:

- a link as an intermediate folder (``link/file``) is refused with
  `InvalidPath` ("... is a symbolic link ...");
- `read` of a link refuses it the same way (reading would follow it);
- operations that name a link as their final component act on the link
  itself: `delete` removes the link, `move` moves the link, `write` and
  ``move(overwrite=True)`` replace the link with the new entry (via rename,
  which replaces a name and never writes through it); `mkdir` answers
  `Conflict` because something other than a folder is there.

Writes are atomic: the content goes to a temporary file (`TEMP_PREFIX`) in
the same folder, is fsynced and renamed over the name, and the folder is
fsynced. A crash leaves the old or the new content, never a mix; leftover
temporary files are hidden from listings and swept after some minutes.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sandpit.errors import (
    BadRequest,
    Conflict,
    InvalidPath,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
)
from sandpit.workspaces import _io
from sandpit.workspaces._checks import (
    check_content,
    check_readable,
    human_size,
    link_sentence,
    too_large,
)
from sandpit.workspaces._folders import (
    WorkspaceRootError,
    lstat_path,
    open_parent,
    open_root,
    permission_errors,
)
from sandpit.workspaces._resolve import Resolver, default_resolver
from sandpit.workspaces._tree import (
    TEMP_PREFIX,
    Kind,
    TooManyEntries,
    TreeChanged,
    kind_of,
    remove_tree,
    scan,
)
from sandpit.workspaces.escaped import listed_path, parts_to_delete, refuse_reserved
from sandpit.workspaces.paths import join_display, validate_path

__all__ = ["TEMP_PREFIX", "Entry", "Usage", "WorkspaceFS", "WorkspaceRootError"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """One listed entry: "/"-joined path, kind, size in bytes (0 unless a file), mtime.

    `escaped`: a name on the path breaks the naming rules (sandbox code made
    it), so `path` is its escaped form (`sandpit.workspaces.paths`), which
    only `delete_escaped` takes.
    """

    path: str
    kind: Kind
    size: int
    mtime: float
    escaped: bool = False


@dataclass(frozen=True)
class Usage:
    """Disk use: total size of regular files, and entries that are not folders."""

    bytes: int
    files: int


class WorkspaceFS:
    """Link-safe file operations beneath `root`.

    Limits: `max_file_bytes` per file read or written, `max_total_bytes` and
    `max_files` for the workspace (checked on write), and `max_entries`
    (default ``2 * max_files``) for any walk of the tree. `resolver` picks how
    folders are opened (default: openat2 where available, else the walk).
    `data_formats` names the binary data formats `write` accepts besides
    UTF-8 text (`sandpit.workspaces.dataformats`; none by default).
    """

    def __init__(
        self,
        root: Path,
        *,
        max_file_bytes: int = MIB,
        max_total_bytes: int = 100 * MIB,
        max_files: int = 2000,
        max_entries: int | None = None,
        resolver: Resolver | None = None,
        data_formats: frozenset[str] = frozenset(),
    ) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self.max_total_bytes = max_total_bytes
        self.max_files = max_files
        self.max_entries = max_entries if max_entries is not None else 2 * max_files
        self.resolver = resolver if resolver is not None else default_resolver()
        self.data_formats = data_formats

    def ensure_root(self) -> None:
        """Create the root folder (mode 0o700, parents too) if missing.

        Raises `WorkspaceRootError` if the root is a link or not a folder.
        """
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except FileExistsError:  # a file, or a dangling link
            raise WorkspaceRootError(
                f"The workspace root {self.root} is a link or not a folder; refusing it."
            ) from None
        with open_root(self.root):
            pass

    def list(self, include_dirs: bool = False) -> builtins.list[Entry]:
        """Return every file, link and other entry (and folder if asked), sorted by path.

        Links are listed as kind "link" and never followed. Entries with a
        name the API could not take as is (a control, escape or bidi
        character, invalid UTF-8, a non-NFC name) are listed under their
        escaped path, flagged `escaped`, as is anything beneath them; our
        temporary files and paths over the length limit are left out.

        Raises `PayloadTooLarge` if the tree holds more than `max_entries` entries.
        """
        with open_root(self.root) as root_fd:
            try:
                found = scan(self.resolver, root_fd, max_entries=self.max_entries)
            except TooManyEntries:
                raise PayloadTooLarge(
                    f"The workspace holds more than {self.max_entries} files and folders, "
                    "too many to list; remove some from the terminal."
                ) from None
        entries = []
        for f in found:
            if not include_dirs and f.kind == "dir":
                continue
            listed = listed_path(f)
            if listed is not None:
                entries.append(Entry(listed[0], f.kind, f.size, f.mtime, escaped=listed[1]))
        entries.sort(key=lambda entry: entry.path)
        return entries

    def usage(self) -> Usage:
        """Return the workspace's current disk use (see `Usage`).

        Raises `QuotaExceeded` if the tree holds more than `max_entries` entries.
        """
        with open_root(self.root) as root_fd:
            return self._usage(root_fd, sweep=False)

    def stat(self, path: str) -> Entry:
        """Describe the entry at `path` without following a link.

        Raises `InvalidPath` (bad path, or a link on the way) and `NotFound`.
        """
        parts = self._parts(path)
        shown = join_display(parts)
        with open_root(self.root) as root_fd:
            found = lstat_path(self.resolver, root_fd, parts)
        if found is None:
            raise NotFound(f"'{shown}' does not exist.")
        kind = kind_of(found.st_mode)
        size = found.st_size if kind == "file" else 0
        return Entry(shown, kind, size, found.st_mtime)

    def read(self, path: str) -> bytes:
        """Return the content of the regular file at `path`.

        Raises `InvalidPath` (bad path, or a link on the way or at the end),
        `NotFound`, `BadRequest` (a folder, a FIFO or other special file, or a
        file with more than one hard link, which could be a file the server
        may read but the user may not), `PayloadTooLarge` (over `max_file_bytes`).
        """
        parts = self._parts(path)
        shown = join_display(parts)
        with (
            open_root(self.root) as root_fd,
            permission_errors(shown),
            open_parent(self.resolver, root_fd, parts) as dir_fd,
        ):
            before = _io.lstat(dir_fd, parts[-1])
            if before is None:
                raise NotFound(f"'{shown}' does not exist.")
            check_readable(before, self.max_file_bytes, shown)
            try:
                fd = os.open(parts[-1], _io.READ_FLAGS, dir_fd=dir_fd)
            except FileNotFoundError:
                raise NotFound(f"'{shown}' does not exist.") from None
            except OSError as exc:
                # ELOOP: swapped for a link; ENXIO: a socket. Both since lstat.
                raise BadRequest(f"'{shown}' changed while being opened; try again.") from exc
            try:
                check_readable(os.fstat(fd), self.max_file_bytes, shown)
                data = _io.read_at_most(fd, self.max_file_bytes + 1)
            finally:
                os.close(fd)
        if len(data) > self.max_file_bytes:
            raise PayloadTooLarge(too_large(shown, self.max_file_bytes))
        return data

    @contextlib.contextmanager
    def open_file(self, path: str) -> Iterator[int]:
        """Yield a read-only fd of the regular file at `path`, whatever its size.

        For streaming (the export): the same refusals as `read` but no size
        limit; the caller reads with `os.read` and must not keep the fd.
        """
        parts = self._parts(path)
        shown = join_display(parts)
        with (
            open_root(self.root) as root_fd,
            permission_errors(shown),
            open_parent(self.resolver, root_fd, parts) as dir_fd,
        ):
            try:
                fd = os.open(parts[-1], _io.READ_FLAGS, dir_fd=dir_fd)
            except FileNotFoundError:
                raise NotFound(f"'{shown}' does not exist.") from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise InvalidPath(link_sentence(shown)) from None
                raise BadRequest(f"'{shown}' cannot be opened.") from exc
        try:
            check_readable(os.fstat(fd), 1 << 62, shown)
            yield fd
        finally:
            os.close(fd)

    def write_from(self, path: str, chunks: Iterator[bytes]) -> bool:
        """Atomically store the bytes of `chunks` as the file at `path`; True if created.

        For content already checked by the caller (the import): no content
        or size check here and no quota check (the caller checks the quota
        for the whole batch first). Links and parents as `write`.
        """
        parts = self._parts(path)
        shown = join_display(parts)
        with open_root(self.root) as root_fd, permission_errors(shown):
            old = lstat_path(self.resolver, root_fd, parts)
            if old is not None and stat.S_ISDIR(old.st_mode):
                raise Conflict(f"'{shown}' is a folder; a file cannot replace it.")
            with open_parent(self.resolver, root_fd, parts, create=True) as dir_fd:
                try:
                    return _io.replace_file(dir_fd, parts[-1], chunks, _io.new_owner(root_fd))
                except IsADirectoryError:
                    raise Conflict(f"'{shown}' is a folder; a file cannot replace it.") from None

    def write(self, path: str, data: bytes) -> bool:
        """Atomically store `data` as the file at `path`; return True if it was created.

        Missing parent folders are created. A link, FIFO or file already at
        `path` is replaced, never written through.

        Raises `InvalidPath`, `PayloadTooLarge` (over `max_file_bytes`),
        `UnsupportedMediaType` (neither UTF-8 text without NUL nor one of
        `data_formats`, recognised by content), `QuotaExceeded`, `Conflict`
        (a folder is at `path`, or a file is where a parent folder should be).
        """
        parts = self._parts(path)
        shown = join_display(parts)
        check_content(data, self.max_file_bytes, shown, self.data_formats)
        with open_root(self.root) as root_fd, permission_errors(shown):
            old = lstat_path(self.resolver, root_fd, parts)
            if old is not None and stat.S_ISDIR(old.st_mode):
                raise Conflict(f"'{shown}' is a folder; a file cannot replace it.")
            old_size = old.st_size if old is not None and stat.S_ISREG(old.st_mode) else 0
            self._check_quota(root_fd, len(data) - old_size, 0 if old is not None else 1)
            with open_parent(self.resolver, root_fd, parts, create=True) as dir_fd:
                try:
                    return _io.replace_file(dir_fd, parts[-1], data, _io.new_owner(root_fd))
                except IsADirectoryError:  # a folder appeared there meanwhile
                    raise Conflict(f"'{shown}' is a folder; a file cannot replace it.") from None

    def mkdir(self, path: str) -> bool:
        """Create the folder at `path` and its parents; return True if it was created.

        Raises `InvalidPath`, `Conflict` (something other than a folder is
        there), `QuotaExceeded` (the tree is past `max_entries`).
        """
        parts = self._parts(path)
        shown = join_display(parts)
        with open_root(self.root) as root_fd, permission_errors(shown):
            self._check_quota(root_fd, 0, 0)
            with open_parent(self.resolver, root_fd, parts, create=True) as dir_fd:
                created = _io.make_folder(dir_fd, parts[-1], _io.new_owner(root_fd))
                existing = _io.lstat(dir_fd, parts[-1])
        if existing is None or stat.S_ISDIR(existing.st_mode):
            return created
        if stat.S_ISLNK(existing.st_mode):
            raise Conflict(f"'{shown}' already exists and is a symbolic link, not a folder.")
        raise Conflict(f"'{shown}' already exists and is not a folder.")

    def delete(self, path: str, recursive: bool = False) -> None:
        """Delete the file, link (itself, never its target) or folder at `path`.

        A non-empty folder needs `recursive`; its contents are removed
        without following any link. Raises `InvalidPath`, `NotFound`,
        `Conflict` (a non-empty folder without `recursive`, or the folder
        changed under us).
        """
        self._delete(self._parts(path), recursive)

    def delete_escaped(self, path: str, recursive: bool = False) -> None:
        """`delete` for a path as listed with `escaped` (see `Entry`).

        Raises `InvalidPath` for a malformed escaped path or one naming our
        temporary files, then as `delete`.
        """
        self._delete(parts_to_delete(path), recursive)

    def _delete(self, parts: tuple[str, ...], recursive: bool) -> None:
        shown = join_display(parts)
        name = parts[-1]
        with (
            open_root(self.root) as root_fd,
            permission_errors(shown),
            open_parent(self.resolver, root_fd, parts) as dir_fd,
        ):
            found = _io.lstat(dir_fd, name)
            if found is None:
                raise NotFound(f"'{shown}' does not exist.")
            try:
                if not stat.S_ISDIR(found.st_mode):
                    os.unlink(name, dir_fd=dir_fd)  # a link goes, its target stays
                elif not _io.rmdir_if_empty(dir_fd, name):
                    if not recursive:
                        raise Conflict(
                            f"The folder '{shown}' is not empty; delete it recursively to "
                            "remove everything in it."
                        )
                    remove_tree(self.resolver, root_fd, parts)
            except FileNotFoundError:
                raise NotFound(f"'{shown}' does not exist.") from None
            except (TreeChanged, IsADirectoryError, NotADirectoryError):
                raise Conflict(f"'{shown}' changed while being deleted; try again.") from None
            os.fsync(dir_fd)

    def move(self, src: str, dst: str, overwrite: bool = False) -> None:
        """Rename or move the file, link or folder `src` to `dst`, creating `dst`'s parents.

        A link is moved as itself. With `overwrite`, an existing file or
        link at `dst` (or an empty folder, when moving a folder) is replaced.

        Raises `InvalidPath`, `NotFound` (no `src`), `BadRequest` (a folder
        into itself), `Conflict` (`dst` exists, or is of the other kind).
        """
        src_parts, dst_parts = self._parts(src), self._parts(dst)
        src_shown, dst_shown = join_display(src_parts), join_display(dst_parts)
        if dst_parts[: len(src_parts)] == src_parts and dst_parts != src_parts:
            raise BadRequest(f"'{src_shown}' cannot be moved inside itself.")
        with contextlib.ExitStack() as stack:
            root_fd = stack.enter_context(open_root(self.root))
            stack.enter_context(permission_errors(src_shown))
            src_dir = stack.enter_context(open_parent(self.resolver, root_fd, src_parts))
            moving = _io.lstat(src_dir, src_parts[-1])
            if moving is None:
                raise NotFound(f"'{src_shown}' does not exist.")
            if dst_parts == src_parts:
                return
            dst_dir = stack.enter_context(
                open_parent(self.resolver, root_fd, dst_parts, create=True)
            )
            try:
                _io.rename(src_dir, src_parts[-1], dst_dir, dst_parts[-1], overwrite=overwrite)
            except FileNotFoundError:
                raise NotFound(f"'{src_shown}' does not exist.") from None
            except FileExistsError:
                raise Conflict(
                    f"'{dst_shown}' already exists; choose another name or allow overwriting."
                ) from None
            except (IsADirectoryError, NotADirectoryError):
                other = "file" if stat.S_ISDIR(moving.st_mode) else "folder"
                raise Conflict(
                    f"'{dst_shown}' exists and is a {other}; a folder and a file cannot "
                    "replace each other."
                ) from None
            except OSError as exc:
                if exc.errno == errno.ENOTEMPTY:
                    raise Conflict(f"The folder '{dst_shown}' exists and is not empty.") from None
                if exc.errno == errno.EINVAL:  # the kernel's "into itself"
                    raise BadRequest(f"'{src_shown}' cannot be moved inside itself.") from None
                raise
            os.fsync(dst_dir)
            os.fsync(src_dir)

    def put_back(self, path: str, data: bytes, *, check_quota: bool = True) -> bool:
        """Atomically store `data` at `path` like `write`, without the text check.

        For content that was in this workspace before (a version or a
        snapshot being restored): it may be a file that sandbox code wrote,
        which the file API would not accept from a client. `check_quota`
        False is for a caller that checked the whole restore's size first.
        Raises as `write` does, except `UnsupportedMediaType`.
        """
        parts = self._parts(path)
        shown = join_display(parts)
        if len(data) > self.max_file_bytes:
            raise PayloadTooLarge(too_large(shown, self.max_file_bytes))
        with open_root(self.root) as root_fd, permission_errors(shown):
            old = lstat_path(self.resolver, root_fd, parts)
            if old is not None and stat.S_ISDIR(old.st_mode):
                raise Conflict(f"'{shown}' is a folder; a file cannot replace it.")
            if check_quota:
                old_size = old.st_size if old is not None and stat.S_ISREG(old.st_mode) else 0
                self._check_quota(root_fd, len(data) - old_size, 0 if old is not None else 1)
            with open_parent(self.resolver, root_fd, parts, create=True) as dir_fd:
                try:
                    return _io.replace_file(dir_fd, parts[-1], data, _io.new_owner(root_fd))
                except IsADirectoryError:
                    raise Conflict(f"'{shown}' is a folder; a file cannot replace it.") from None

    # -- helpers ---------------------------------------------------------------

    def _parts(self, path: str) -> tuple[str, ...]:
        """Validate `path` and refuse names reserved for temporary files."""
        parts = validate_path(path)
        refuse_reserved(parts)
        return parts

    def _usage(self, root_fd: int, *, sweep: bool) -> Usage:
        try:
            found = scan(
                self.resolver, root_fd, max_entries=self.max_entries, sweep_stale_temp=sweep
            )
        except TooManyEntries:
            raise QuotaExceeded(
                f"The workspace holds more than {self.max_entries} files and folders, past its "
                f"limit of {self.max_files} files; remove some from the terminal."
            ) from None
        files = [f for f in found if f.kind != "dir"]
        return Usage(bytes=sum(f.size for f in files), files=len(files))

    def _check_quota(self, root_fd: int, more_bytes: int, more_files: int) -> None:
        """Refuse growth past the quotas; shrinking is allowed even when over."""
        used = self._usage(root_fd, sweep=True)
        if more_bytes > 0 and used.bytes + more_bytes > self.max_total_bytes:
            raise QuotaExceeded(
                "Saving this file would take the workspace past its "
                f"{human_size(self.max_total_bytes)} storage limit."
            )
        if more_files > 0 and used.files + more_files > self.max_files:
            raise QuotaExceeded(
                f"The workspace already holds {used.files} files, and its limit is "
                f"{self.max_files}; delete some before adding more."
            )
