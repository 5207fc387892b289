"""File descriptors with exactly one owner, and a guard that makes a second close loud.

Security invariant 10: every descriptor the server opens has exactly one
owner that closes it exactly once. A descriptor number is reused by the
kernel the moment it is closed, so a second `close` of the same number is
not harmless: when another thread (the database's workers, a cgroup write in
`asyncio.to_thread`) has been given that number in between, the second close
closes *its* file. That is how a server under a class's load lost SQLite's
descriptors ("disk I/O error" on every request after).

`OwnedFd` is the owner: `close()` closes once however often it is called,
and `take()` hands the number over to a new owner (a transport, a file
object, another `OwnedFd`) so the old one will never close it. Code that
holds a bare `int` never closes it.

`install_guard()` (on in the test pass, and with `FD_GUARD=true`) wraps
`os.close` and the unbuffered files `os.fdopen` makes (what transports are
built from): a close of a descriptor that is not open is recorded with the
stack of this closer and of the last `os.close` of that number, so a test
can fail at once naming both. It catches the race-free form of the bug
(close, close); the racy form closes someone else's file silently, which is
why ownership, not the guard, is the fix.
"""

from __future__ import annotations

import errno
import io
import os
import resource
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DoubleClose", "OwnedFd", "guard_installed", "install_guard", "take_violations"]


class OwnedFd:
    """One descriptor and the duty to close it once. Not thread-safe: one owner, one thread."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        if fd < 0:
            raise ValueError("a descriptor is a non-negative number")
        self._fd = fd

    @property
    def fd(self) -> int:
        """The number, for reading and writing; `ValueError` once closed or taken."""
        if self._fd < 0:
            raise ValueError("the descriptor was closed or handed over")
        return self._fd

    def fileno(self) -> int:
        return self.fd

    @property
    def closed(self) -> bool:
        """True once closed or handed over: this owner will not close it again."""
        return self._fd < 0

    def take(self) -> int:
        """Hand the descriptor to a new owner; this one will never close it."""
        fd = self.fd
        self._fd = -1
        return fd

    def close(self) -> None:
        """Close the descriptor if this owner still holds it; a no-op after that."""
        if self._fd >= 0:
            fd, self._fd = self._fd, -1
            os.close(fd)

    def __enter__(self) -> OwnedFd:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OwnedFd({self._fd})" if self._fd >= 0 else "OwnedFd(closed)"


def owned_pipe() -> tuple[OwnedFd, OwnedFd]:
    """A close-on-exec pipe as (read end, write end), each with its owner."""
    read_end, write_end = os.pipe2(os.O_CLOEXEC)
    return OwnedFd(read_end), OwnedFd(write_end)


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open descriptors to its hard limit; return it.

    Each active student holds about ten of the server's descriptors (the
    sandbox's channel and proxy listener, a terminal's PTY, a WebSocket, an
    HTTP connection), so the common soft default of 1024 would end a class
    of a hundred with EMFILE while the hard limit allows far more.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass  # keep the soft limit we have; the service manager's is then the limit
    return soft


@dataclass(frozen=True)
class DoubleClose:
    """A close of a descriptor that was already closed: who closed it now, and who before."""

    fd: int
    closer: str
    previous: str

    def describe(self) -> str:
        return (
            f"descriptor {self.fd} was closed by a caller that did not own it (EBADF).\n"
            f"This close:\n{self.closer}\n"
            f"The last Python-level close of that number:\n{self.previous}"
        )


_STACK_LIMIT = 12
_MAX_RECORDED = 100
_lock = threading.Lock()
_last_closer: dict[int, list[traceback.FrameSummary]] = {}
_violations: list[DoubleClose] = []
_real_close = os.close
_real_fdopen = os.fdopen


@dataclass
class _Guard:
    installed: bool = False
    report: Callable[[DoubleClose], None] | None = None


_guard = _Guard()


def _guarded_close(fd: int) -> None:
    try:
        _real_close(fd)
    except OSError as exc:
        if exc.errno == errno.EBADF:
            _record(fd)
        raise
    stack = _caller_stack(skip=1)
    with _lock:
        _last_closer[fd] = stack


def _caller_stack(skip: int) -> list[traceback.FrameSummary]:
    """The innermost frames above `skip` levels of the guard, oldest first.

    Cheap enough for every close: frames are walked without reading source
    lines (`lookup_lines=False`); the lines are read only if it is printed.
    """
    frame = sys._getframe(skip + 1)
    summary = traceback.StackSummary.extract(
        traceback.walk_stack(frame), limit=_STACK_LIMIT, lookup_lines=False
    )
    return list(reversed(summary))


def _record(fd: int) -> None:
    """Record a close of `fd`, which is not open (see `DoubleClose`)."""
    stack = _caller_stack(skip=2)
    with _lock:
        previous = _last_closer.get(fd)
        found = DoubleClose(
            fd,
            "".join(traceback.format_list(stack)),
            "".join(traceback.format_list(previous))
            if previous is not None
            else "(not by os.close: a file, socket or transport object)\n",
        )
        if len(_violations) < _MAX_RECORDED:
            _violations.append(found)
    if _guard.report is not None:
        _guard.report(found)


class _GuardedFile(io.FileIO):
    """A raw file from `os.fdopen` that records a close of a descriptor already closed."""

    def close(self) -> None:
        if not self.closed and self.closefd:
            try:
                os.fstat(self.fileno())
            except OSError as exc:
                if exc.errno == errno.EBADF:
                    _record(self.fileno())
        super().close()


def _guarded_fdopen(
    fd: int, mode: str = "r", buffering: int = -1, *args: object, **kw: object
) -> object:
    # Unbuffered binary files (what transports are made from) are watched;
    # anything else is opened as usual.
    if buffering == 0 and "b" in mode and not args and not kw:
        return _GuardedFile(fd, mode.replace("b", ""), closefd=True)
    return _real_fdopen(fd, mode, buffering, *args, **kw)  # type: ignore[call-overload]


def install_guard(report: Callable[[DoubleClose], None] | None = None) -> None:
    """Record every `os.close` that fails with EBADF (see the module docstring). Idempotent.

    `report`, if given, is also called with each one as it happens (the
    server logs it).
    """
    if report is not None:
        _guard.report = report
    if not _guard.installed:
        os.close = _guarded_close
        os.fdopen = _guarded_fdopen  # type: ignore[assignment]
        _guard.installed = True


def guard_installed() -> bool:
    return _guard.installed


def take_violations() -> list[DoubleClose]:
    """The double closes recorded since the last call, oldest first."""
    with _lock:
        found = list(_violations)
        _violations.clear()
    return found
