"""Thin ctypes wrappers for two Linux calls the standard library lacks.

- `openat2(2)` (Linux 5.6+), used with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
  RESOLVE_NO_MAGICLINKS so the kernel itself refuses any symbolic link on the
  way. `openat2_supported()` says once per process whether it can be used.
- `renameat2(2)` with RENAME_NOREPLACE, so a move that must not overwrite is
  one atomic step rather than a check followed by a rename.

Both raise `OSError` with the kernel's errno, like the `os` module does.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import sys

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08

RENAME_NOREPLACE = 0x01

# openat2 has number 437 on every architecture that uses the unified syscall
# table; we only trust it where we have checked, and calling a wrong number
# could run an unrelated syscall.
_OPENAT2_SYSCALL = {"x86_64": 437, "aarch64": 437, "arm64": 437}


class _OpenHow(ctypes.Structure):
    """`struct open_how` from <linux/openat2.h>, version 0 (24 bytes)."""

    _fields_ = (
        ("flags", ctypes.c_uint64),
        ("mode", ctypes.c_uint64),
        ("resolve", ctypes.c_uint64),
    )


@functools.cache
def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long  # a negative return must not be truncated
    return libc


def _raise_errno(path: str) -> None:
    code = ctypes.get_errno()
    raise OSError(code, os.strerror(code), path)


def openat2(dir_fd: int, path: str, flags: int, resolve: int) -> int:
    """Open `path` relative to `dir_fd` with the given open flags and RESOLVE_* bits.

    Returns a new file descriptor. Raises `OSError` (ENOSYS where the kernel or
    platform lacks openat2, ELOOP on a refused link, ENOENT, ENOTDIR, EXDEV on
    an escape, EAGAIN when a concurrent rename made the lookup unsafe).
    """
    number = _OPENAT2_SYSCALL.get(platform.machine()) if sys.platform == "linux" else None
    if number is None:
        raise OSError(errno.ENOSYS, "openat2 is not available on this platform", path)
    how = _OpenHow(flags, 0, resolve)
    fd = int(
        _libc().syscall(
            ctypes.c_long(number),
            ctypes.c_long(dir_fd),
            ctypes.c_char_p(os.fsencode(path)),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
    )
    if fd < 0:
        _raise_errno(path)
    return fd


@functools.cache
def openat2_supported() -> bool:
    """Whether openat2 with RESOLVE_BENEATH works here; probed once per process.

    ENOSYS means an old kernel; EPERM is what older Docker seccomp profiles
    answer for syscalls they do not know. Either way the caller falls back to
    a component-by-component walk.
    """
    try:
        fd = openat2(
            -100,  # AT_FDCWD
            ".",
            os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC,
            RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        )
    except OSError as exc:
        if exc.errno in (errno.ENOSYS, errno.EPERM, errno.EINVAL, errno.E2BIG):
            return False
        raise
    os.close(fd)
    return True


def rename_noreplace(src_dir_fd: int, src: str, dst_dir_fd: int, dst: str) -> None:
    """Rename `src` to `dst` (names relative to the dir fds), failing if `dst` exists.

    Like `os.rename`, it never follows a link at either end. Raises `OSError`
    EEXIST if `dst` exists, and `NotImplementedError` where the C library,
    kernel or filesystem lacks RENAME_NOREPLACE (the caller then checks and
    renames in two steps).
    """
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        raise NotImplementedError("renameat2 is not in this C library")
    result = renameat2(
        ctypes.c_int(src_dir_fd),
        ctypes.c_char_p(os.fsencode(src)),
        ctypes.c_int(dst_dir_fd),
        ctypes.c_char_p(os.fsencode(dst)),
        ctypes.c_uint(RENAME_NOREPLACE),
    )
    if result != 0:
        code = ctypes.get_errno()
        # EINVAL: the filesystem does not support the flag; ENOSYS: old kernel.
        if code in (errno.ENOSYS, errno.EINVAL):
            raise NotImplementedError(os.strerror(code))
        raise OSError(code, os.strerror(code), dst)
