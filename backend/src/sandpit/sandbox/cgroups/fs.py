"""cgroupfs access: read, write, create, list, kill and remove cgroups, and parse their files.

The synchronous sysfs calls that `cgroups_base`, `cgroups_v1` and
`cgroups_v2` share. cgroupfs cannot hold symlinks; files are still opened
with O_NOFOLLOW and directories listed without following links, so nothing
here follows one. OSError from the kernel passes through, except where a
function says it raises `CgroupError` (a cgroup that stays busy, a process
that survives SIGKILL) or `CgroupUnavailable` (`prepare_dir`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from sandpit.sandbox.cgroups.errors import CgroupError, CgroupUnavailable, unavailable

KILL_TIMEOUT_S = 10.0
"""How long a kill may take before a survivor is reported as a platform failure."""

_O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_WRITE = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC


# --- interface files (pure) ---------------------------------------------------


def controller_of(file_name: str) -> str:
    """The controller an interface file belongs to: "memory.max" -> "memory"."""
    return file_name.split(".", 1)[0]


def parse_keyed(text: str) -> dict[str, int]:
    """Parse a flat keyed file ("key value" per line), e.g. memory.events or cpu.stat."""
    result: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            result[key] = int(value)
    return result


def parse_limit(text: str) -> int | None:
    """Parse a limit file: "max" (v2) or the v1 "unlimited" page-counter maximum -> None."""
    value = text.strip()
    if value in {"max", "-1"}:
        return None
    number = int(value)
    # v1 reports "unlimited" as PAGE_COUNTER_MAX pages in bytes, just under 2**63.
    return None if number >= 2**62 else number


def parse_pids(text: str) -> list[int]:
    """Parse cgroup.procs: one pid per line."""
    return [int(line) for line in text.split()]


# --- sysfs access -------------------------------------------------------------


def read_file(path: Path) -> str:
    """Read a cgroup file without following a symlink. Raises OSError."""
    fd = os.open(path, _O_READ)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode()
    finally:
        os.close(fd)


def try_read(path: Path) -> str | None:
    """`read_file`, or None if the file (or its cgroup) does not exist."""
    try:
        return read_file(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        # A cgroup removed between the open and the read answers ENODEV.
        if error.errno == errno.ENODEV:
            return None
        raise


def write_file(path: Path, value: str) -> None:
    """Write `value` to a cgroup file in one write(2), as the kernel expects. Raises OSError."""
    fd = os.open(path, _O_WRITE)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def make_dir(path: Path) -> None:
    """Create a cgroup directory if absent; raise CgroupError if something else is there."""
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        if not path.is_dir() or path.is_symlink():
            raise CgroupError(f"{path} exists and is not a cgroup directory") from None


def unique_paths(paths: Iterable[Path]) -> tuple[Path, ...]:
    """`paths` without repeats, in order (co-mounted v1 controllers share a directory)."""
    return tuple(dict.fromkeys(paths))


def prepare_dir(path: Path) -> None:
    """`make_dir` for the driver's root, raising CgroupUnavailable with the reason.

    The write check catches a root left by an earlier run as root, now
    reached without the permission to create sandboxes in it.
    """
    try:
        make_dir(path)
    except OSError as error:
        raise unavailable(error, "create the cgroup", path) from error
    except CgroupError as error:
        raise CgroupUnavailable(str(error)) from error
    if not os.access(path, os.W_OK):
        raise unavailable(PermissionError(errno.EACCES, "denied"), "write to", path)


def child_dirs(path: Path) -> list[Path]:
    """The child cgroups of `path` (its subdirectories; links are not followed)."""
    try:
        with os.scandir(path) as entries:
            return sorted(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        return []


def procs_under(path: Path) -> set[int]:
    """Every pid in the cgroup at `path` and in its descendants (empty if it is gone)."""
    pids = set(parse_pids(try_read(path / "cgroup.procs") or ""))
    for child in child_dirs(path):
        pids |= procs_under(child)
    return pids


def remove_tree(path: Path, timeout: float = 2.0) -> None:
    """rmdir the cgroup at `path` and its descendants, deepest first; a missing one is fine.

    A process that was just killed can hold its cgroup for a moment while it
    exits, so EBUSY is retried until `timeout`; then CgroupError.
    """
    for child in child_dirs(path):
        remove_tree(child, timeout)
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() > deadline:
                raise CgroupError(f"cannot remove cgroup {path}: {error.strerror}") from error
        time.sleep(0.01)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` (5 ms, backing off to 50 ms) until it holds or `timeout` passes."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def signal_members(list_pids: Callable[[], Iterable[int]], sig: int = signal.SIGKILL) -> None:
    """Send `sig` to every process `list_pids` lists, never to a recycled pid.

    A pidfd pins the process that held the pid when it was opened; the list
    is then read again and only pids still listed get the signal. A pid that
    was reused by a process outside the cgroup in between is not listed, so
    it is never signalled; a member that appeared meanwhile waits for the
    caller's next round. Before Linux 5.3 (no pidfd_open) the pid itself is
    signalled: safe under a freezer, where members can neither exit nor fork.
    """
    pidfds: dict[int, int | None] = {}
    try:
        for pid in list_pids():
            try:
                pidfds[pid] = os.pidfd_open(pid)
            except ProcessLookupError:
                continue
            except OSError as error:
                if error.errno != errno.ENOSYS:
                    raise
                pidfds[pid] = None
        still_members = set(list_pids())
        for pid, pidfd in pidfds.items():
            if pid in still_members:
                with contextlib.suppress(ProcessLookupError):
                    if pidfd is None:
                        os.kill(pid, sig)
                    else:
                        signal.pidfd_send_signal(pidfd, sig)
    finally:
        for pidfd in pidfds.values():
            if pidfd is not None:
                os.close(pidfd)


def kill_until_empty(
    list_pids: Callable[[], list[int]],
    *,
    freeze: Callable[[], None] | None = None,
    thaw: Callable[[], None] | None = None,
    timeout: float = KILL_TIMEOUT_S,
    what: str = "cgroup",
) -> None:
    """SIGKILL everything `list_pids` lists, in rounds, until it lists nothing.

    With `freeze`/`thaw` (a freezer), members can neither fork nor exit
    between listing and signalling, so one round normally ends them all;
    without one, forks that slip past a round are caught by the next.
    Raises CgroupError if members remain after `timeout` (e.g. a task stuck in
    uninterruptible sleep).
    """
    deadline = time.monotonic() + timeout
    while pids := list_pids():
        if time.monotonic() > deadline:
            raise CgroupError(f"processes {pids[:10]} in {what} survived SIGKILL")
        if freeze is not None:
            freeze()
        try:
            signal_members(list_pids)
        finally:
            if thaw is not None:
                thaw()
        wait_until(lambda: not list_pids(), max(0.0, min(0.5, deadline - time.monotonic())))
