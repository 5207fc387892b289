"""Low-level steps on one name inside an open folder fd, none of which follow a link.

Each function takes a folder fd and a single name in it, and uses ``dir_fd=``
with no-follow semantics: lstat, rmdir, unlink, rename and O_NOFOLLOW opens
act on the name itself, whatever it is. `replace_file` is the atomic write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterable

from sandpit.workspaces import _syscalls
from sandpit.workspaces._tree import TEMP_PREFIX

# O_NONBLOCK: a FIFO planted by sandbox code must not hang a server thread in
# open(); O_NOCTTY: a terminal device must never become ours.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def lstat(dir_fd: int, name: str) -> os.stat_result | None:
    """lstat `name` in `dir_fd`; None if it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def rmdir_if_empty(dir_fd: int, name: str) -> bool:
    """Remove the folder `name` if it is empty; return False if it is not."""
    try:
        os.rmdir(name, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOTEMPTY:
            return False
        raise
    return True


def rename(src_dir: int, src: str, dst_dir: int, dst: str, *, overwrite: bool) -> None:
    """Rename `src` to `dst` without following links at either end.

    Raises `FileExistsError` if `dst` exists and not `overwrite`, and the
    usual `OSError`s of rename(2) (EISDIR, ENOTDIR, ENOTEMPTY, EINVAL).
    """
    if overwrite:
        os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
        return
    try:
        _syscalls.rename_noreplace(src_dir, src, dst_dir, dst)
    except NotImplementedError:
        # No atomic no-replace here: check, then rename. The race only lets a
        # concurrent sandbox write be replaced, and rename never follows it.
        if lstat(dst_dir, dst) is not None:
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst) from None
        os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)


def new_owner(root_fd: int) -> tuple[int, int] | None:
    """The (uid, gid) that entries we create should get, or None to keep ours.

    When the server runs as root, files it creates would belong to root and
    the sandbox user could not edit them; they take the root folder's owner.
    """
    if os.geteuid() != 0:
        return None
    st = os.fstat(root_fd)
    if (st.st_uid, st.st_gid) == (os.geteuid(), os.getegid()):
        return None
    return st.st_uid, st.st_gid


def make_folder(dir_fd: int, name: str, owner: tuple[int, int] | None) -> bool:
    """mkdir `name` in `dir_fd` unless something is there; return True if created."""
    try:
        os.mkdir(name, 0o755, dir_fd=dir_fd)  # EEXIST on a link: never follows
    except FileExistsError:
        return False
    if owner is not None:
        with contextlib.suppress(FileNotFoundError):
            os.chown(name, *owner, dir_fd=dir_fd, follow_symlinks=False)
    os.fsync(dir_fd)  # the new entry survives a crash before the file in it
    return True


def replace_file(
    dir_fd: int, name: str, data: bytes | Iterable[bytes], owner: tuple[int, int] | None
) -> bool:
    """Atomically make `name` a regular file holding `data` (or its chunks); True if created.

    Writes a new temporary file (O_EXCL | O_NOFOLLOW) in the same folder,
    fsyncs it, renames it over `name` and fsyncs the folder: after a crash
    `name` holds the old or the new content, never a mix. A link, FIFO or
    file at `name` is replaced as a name, never opened or followed. A
    regular file's permission bits (e.g. +x) are kept, but not setuid,
    setgid or sticky bits, nor its owner (new files get `owner`).

    Raises `IsADirectoryError` if `name` is a folder; the temporary file is
    removed on any failure.
    """
    old = lstat(dir_fd, name)
    mode = 0o644
    if old is not None and stat.S_ISREG(old.st_mode):
        mode = stat.S_IMODE(old.st_mode) & 0o777
    temp = TEMP_PREFIX + secrets.token_hex(8)
    fd = os.open(temp, _TEMP_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        try:
            for chunk in [data] if isinstance(data, bytes) else data:
                _write_all(fd, chunk)
            if owner is not None:
                os.fchown(fd, *owner)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)
    return old is None


def read_at_most(fd: int, limit: int) -> bytes:
    """Read until EOF or `limit` bytes, whichever comes first."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
