"""Per-sandbox cgroups: limits for a whole sandbox, and a leaf per process group.

The server (root) gives every sandbox its own cgroup ``<root>/<sandbox_id>``
holding the sandbox-wide limits (security invariant 2) and, beneath it, one
leaf per group of processes: ``agent`` for the sandbox's init, ``run-<id>`` per
run, ``term-<id>`` per terminal. A leaf can be killed as a whole, forks and
double-forked daemons included, which is how a run's timeout ends everything
the run started; the limits on the parent hold for all the leaves together::

    driver = detect()                        # or raises CgroupUnavailable
    sandbox = driver.create_sandbox("ab12", Limits())
    run = sandbox.leaf("run-7", oom_group=True)
    run.add(pid)                             # before the process runs user code
    ...
    status = "oom" if run.oom_killed() else status
    run.remove()                             # kills what is left, then rmdir
    sandbox.remove()
    driver.reap(keep=live_ids)               # at server start: no orphans

cgroup v2 (one hierarchy) lives in `cgroups_v2`, v1 (a hierarchy per
controller, the same path created in each) in `cgroups_v1`; both implement the
abstract classes here. Every call is a few synchronous sysfs reads and writes;
a caller on an event loop runs them in a thread.

Paths: every directory is ``<mount point>/<root parts>/<sandbox id>/<leaf>``,
each part checked against a strict pattern, so no path leaves the mount points
found in /proc/self/mountinfo. cgroupfs cannot hold symlinks; files are still
opened with O_NOFOLLOW and directories listed without following links, so this
module never follows one. Leaf and sandbox names contain no dot, so they can
never collide with a cgroup interface file (those are all ``<prefix>.<name>``).

Errors: `CgroupUnavailable` (a `SandpitError`, 503) when this host's cgroups
cannot enforce the limits, with a sentence naming what is missing;
`CgroupError` when an operation fails on a host whose cgroups otherwise work
(a platform failure); `ValueError` for a malformed id or impossible limits.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass
from pathlib import Path

from sandpit.errors import ServiceUnavailable
from sandpit.sandbox.limits import Limits

CPU_PERIOD_US = 100_000
"""CFS period: the kernel's default; the quota is `cpus` times this."""

MIN_CPU_QUOTA_US = 1_000
"""The kernel refuses a CFS quota under 1 ms."""

KILL_TIMEOUT_S = 10.0
"""How long a kill may take before a survivor is reported as a platform failure."""

V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer")
"""v1 hierarchies used: the limits, CPU accounting, and the freezer for kill-all."""

V2_CONTROLLERS = ("memory", "pids", "cpu")
"""v2 controllers used; kill and freeze are part of the v2 core."""

_SANDBOX_ID = re.compile(r"[a-z0-9]{1,64}")
_LEAF_NAME = re.compile(r"[a-z0-9-]{1,64}")
# Parts of the configurable root, e.g. "sandpit" or "sandpit.slice/sandboxes".
_ROOT_PART = re.compile(r"[A-Za-z0-9_@.-]{1,64}")
_O_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_WRITE = os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class CgroupUnavailable(ServiceUnavailable):
    """This host's cgroups cannot enforce the sandbox limits; `reason` says what is missing.

    `detail` is the whole sentence: "cgroups cannot enforce the sandbox
    limits: <reason>.".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"cgroups cannot enforce the sandbox limits: {reason}.")
        self.reason = reason


class CgroupError(RuntimeError):
    """A cgroup operation failed on a host whose cgroups otherwise work (a platform failure)."""


def unavailable(error: OSError, action: str, path: Path) -> CgroupUnavailable:
    """A CgroupUnavailable whose sentence explains why `action` on `path` failed."""
    if error.errno == errno.EROFS:
        return CgroupUnavailable(f"the cgroup filesystem at {path} is read-only")
    if error.errno in {errno.EACCES, errno.EPERM}:
        return CgroupUnavailable(
            f"permission denied to {action} {path}: the server must run as root"
            " or be given a delegated cgroup"
        )
    return CgroupUnavailable(f"cannot {action} {path}: {error.strerror}")


@dataclass(frozen=True)
class CgroupStats:
    """A sandbox's usage and limits. A limit of None means unlimited (or not enforced)."""

    memory_bytes: int
    memory_limit_bytes: int | None
    cpu_usage_ns: int
    pids: int
    pids_limit: int | None
    oom_kills: int


# --- names and values (pure) ------------------------------------------------


def validate_sandbox_id(sandbox_id: str) -> str:
    """Return `sandbox_id` if it is 1-64 of [a-z0-9]; raise ValueError otherwise."""
    if not _SANDBOX_ID.fullmatch(sandbox_id):
        raise ValueError(f"invalid sandbox id {sandbox_id!r}: expected 1-64 of [a-z0-9]")
    return sandbox_id


def validate_leaf_name(name: str) -> str:
    """Return `name` if it is 1-64 of [a-z0-9-]; raise ValueError otherwise."""
    if not _LEAF_NAME.fullmatch(name):
        raise ValueError(f"invalid leaf name {name!r}: expected 1-64 of [a-z0-9-]")
    return name


def split_root_name(root_name: str) -> tuple[str, ...]:
    """Split a root such as "sandpit" or "sandpit.slice/boxes" into checked parts.

    Raises ValueError for an empty part, "." or "..", or a character outside
    [A-Za-z0-9_@.-]: the root must stay beneath the mount point.
    """
    parts = tuple(root_name.split("/"))
    for part in parts:
        if part in {".", ".."} or not _ROOT_PART.fullmatch(part):
            raise ValueError(f"invalid cgroup root {root_name!r}: bad part {part!r}")
    return parts


def check_limits(limits: Limits) -> None:
    """Raise ValueError if `limits` cannot be expressed as cgroup limits."""
    if limits.memory_bytes <= 0:
        raise ValueError("the memory limit must be positive")
    if limits.memory_swap_bytes < limits.memory_bytes:
        raise ValueError("the memory+swap limit must be at least the memory limit")
    if limits.cpus <= 0:
        raise ValueError("the CPU limit must be positive")
    if limits.pids < 1:
        raise ValueError("the process limit must be at least 1")


def cpu_quota_us(cpus: float) -> int:
    """The CFS quota per `CPU_PERIOD_US` for `cpus` CPUs (1.0 -> 100000, 0.5 -> 50000)."""
    return max(MIN_CPU_QUOTA_US, round(cpus * CPU_PERIOD_US))


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


def missing_sentence(missing: Iterable[str], verb: str = "available") -> str:
    """ "the memory controller is not available" / "the memory and pids controllers are..."."""
    names = list(missing)
    if len(names) == 1:
        return f"the {names[0]} controller is not {verb}"
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"the {listed} controllers are not {verb}"


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


# --- the interface ------------------------------------------------------------


class CgroupNode(ABC):
    """One cgroup: one directory (v2) or the same path in each hierarchy used (v1)."""

    def __init__(self, paths: tuple[Path, ...]) -> None:
        self.paths = paths

    def exists(self) -> bool:
        """True if the cgroup's directory exists in at least one hierarchy."""
        return any(path.is_dir() for path in self.paths)

    def procs(self) -> list[int]:
        """Host pids of every process in this cgroup and its descendants, sorted."""
        pids: set[int] = set()
        for path in self.paths:
            pids |= procs_under(path)
        return sorted(pids)

    @abstractmethod
    def kill(self) -> None:
        """SIGKILL every process in this cgroup, even while they fork; return once it is empty.

        A cgroup that does not exist is already empty. Raises CgroupError if
        processes survive `KILL_TIMEOUT_S`.
        """

    def _remove_dirs(self) -> None:
        for path in self.paths:
            remove_tree(path)


class Leaf(CgroupNode):
    """A leaf cgroup under a sandbox: the agent, one run or one terminal."""

    def __init__(
        self, name: str, paths: tuple[Path, ...], on_removed: Callable[[int], None]
    ) -> None:
        super().__init__(paths)
        self.name = validate_leaf_name(name)
        self._on_removed = on_removed

    @property
    def procs_files(self) -> tuple[Path, ...]:
        """The cgroup.procs files a launcher writes its own pid to, to start inside the leaf."""
        return tuple(path / "cgroup.procs" for path in self.paths)

    def add(self, pid: int) -> None:
        """Move host process `pid` (with its threads) into this leaf, in every hierarchy.

        Move a process before it runs user code, and best before it allocates:
        on v1 each hierarchy is one write, so a child forked between two
        writes would be split; and neither v1 nor v2 moves the memory already
        charged (nor the CPU time already used) to the old cgroup, so only
        what the process uses after the move counts against the sandbox. A
        launcher that writes its own pid to `procs_files` before exec-ing the
        sandbox avoids both. Raises ProcessLookupError if the process is gone,
        CgroupError otherwise.
        """
        for procs_file in self.procs_files:
            try:
                write_file(procs_file, str(pid))
            except ProcessLookupError:
                raise
            except OSError as error:
                raise CgroupError(f"cannot move {pid} to {procs_file}: {error}") from error

    @abstractmethod
    def oom_killed(self) -> int:
        """How many of this leaf's processes the OOM killer has killed (0 if none or gone)."""

    def remove(self) -> None:
        """Kill what is left in the leaf, then remove it; nothing happens if it is gone."""
        if not self.exists():
            return
        self.kill()
        kills = self.oom_killed()
        self._remove_dirs()
        # v1 counts OOM kills only in the victim's own cgroup: the sandbox keeps
        # the tally of removed leaves so its total survives them.
        self._on_removed(kills)


class SandboxCgroup(CgroupNode):
    """The cgroup of one sandbox: the limits, over leaves that hold its processes."""

    def __init__(self, sandbox_id: str, paths: tuple[Path, ...]) -> None:
        super().__init__(paths)
        self.sandbox_id = validate_sandbox_id(sandbox_id)
        self._removed_oom_kills = 0

    @abstractmethod
    def leaf(self, name: str, *, oom_group: bool = False) -> Leaf:
        """Create the leaf `name` (or open it if it exists) and return it.

        `oom_group=True` (v2 only; pass it for runs) makes an OOM kill of one
        of the leaf's processes kill the whole leaf, so a run ends as a whole.
        On v1 the kernel has no such switch: only the victim dies, and the
        caller, seeing `oom_killed()`, kills the leaf. Terminals and the agent
        keep the default, so an OOM ends the offending process, not the shell.
        Raises ValueError for a bad name, CgroupError if it cannot be created.
        """

    def leaves(self) -> list[Leaf]:
        """The leaves that exist now (e.g. to re-adopt or clean up after a restart)."""
        names: set[str] = set()
        for path in self.paths:
            names |= {child.name for child in child_dirs(path)}
        return [self._open_leaf(name) for name in sorted(names) if _LEAF_NAME.fullmatch(name)]

    @abstractmethod
    def _open_leaf(self, name: str) -> Leaf: ...

    def _count_removed(self, oom_kills: int) -> None:
        self._removed_oom_kills += oom_kills

    @abstractmethod
    def stats(self) -> CgroupStats:
        """Usage and limits of the whole sandbox (every leaf together)."""

    def kill_all(self) -> None:
        """SIGKILL every process of the sandbox, in every leaf (see `CgroupNode.kill`)."""
        self.kill()

    def remove(self) -> None:
        """Kill everything, remove the leaves, then the sandbox cgroup; never raises if gone."""
        if not self.exists():
            return
        self.kill()
        self._remove_dirs()


class CgroupDriver(ABC):
    """Creates, lists and reaps sandbox cgroups under ``<mount>/<root_name>``.

    `missing` lists, in sentences, the limits this driver cannot enforce (only
    non-empty when `detect(accept_weaker=True)` accepted them); `notes` lists
    weaker points worth a log line at start (e.g. no swap accounting).
    """

    version: int
    controllers: frozenset[str]
    """The controllers this driver uses (all it needs, unless weaker limits were accepted)."""

    def __init__(self, root_name: str, missing: tuple[str, ...] = ()) -> None:
        self.root_name = root_name
        self.root_parts = split_root_name(root_name)
        self.missing = missing
        self.notes: tuple[str, ...] = ()

    @property
    @abstractmethod
    def root_dirs(self) -> tuple[Path, ...]:
        """The root directory in every hierarchy used."""

    @abstractmethod
    def prepare(self) -> None:
        """Create the root and make the controllers usable below it.

        Raises CgroupUnavailable, with a sentence, if that is impossible.
        """

    @abstractmethod
    def create_sandbox(self, sandbox_id: str, limits: Limits) -> SandboxCgroup:
        """Create ``<root>/<sandbox_id>`` with `limits`, killing and replacing any
        earlier cgroup of that id. Raises ValueError, CgroupError."""

    @abstractmethod
    def open_sandbox(self, sandbox_id: str) -> SandboxCgroup | None:
        """The existing cgroup of `sandbox_id` (to re-adopt it), or None."""

    def list_sandboxes(self) -> list[str]:
        """Ids of every sandbox cgroup under the root, in any hierarchy, sorted."""
        names: set[str] = set()
        for root in self.root_dirs:
            names |= {child.name for child in child_dirs(root)}
        return sorted(name for name in names if _SANDBOX_ID.fullmatch(name))

    def reap(self, keep: Set[str] = frozenset()) -> list[str]:
        """Kill and remove every sandbox cgroup not in `keep`; return the ids reaped.

        Used at server start after a crash, so no orphan process or cgroup remains.
        """
        reaped = []
        for sandbox_id in self.list_sandboxes():
            sandbox = self.open_sandbox(sandbox_id)
            if sandbox_id not in keep and sandbox is not None:
                sandbox.remove()
                reaped.append(sandbox_id)
        return reaped

    def remove_root(self) -> None:
        """Reap every sandbox, then remove the root's last part (tests, uninstall)."""
        self.reap()
        for root in self.root_dirs:
            remove_tree(root)


# --- detection ----------------------------------------------------------------

# What each controller enforces, for the sentences of `CgroupDriver.missing`.
_ROLE = {
    "memory": "no memory limit and no OOM accounting",
    "pids": "no process limit",
    "cpu": "no CPU limit",
    "cpuacct": "no CPU usage in stats",
    "freezer": "kills fall back to repeated SIGKILL rounds",
}


@dataclass(frozen=True)
class Mount:
    """One line of /proc/self/mountinfo; `options` joins per-mount and superblock options."""

    mount_point: Path
    root: str
    fstype: str
    options: frozenset[str]

    @property
    def read_only(self) -> bool:
        return "ro" in self.options


@dataclass(frozen=True)
class HierarchyPlan:
    """The hierarchy to use: v2 at `v2_mount`, or v1 at `v1_mounts` (controller -> mount)."""

    version: int
    v2_mount: Path | None
    v1_mounts: dict[str, Path]
    controllers: frozenset[str]
    missing: tuple[str, ...]
    local_events: bool = False


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """Parse /proc/self/mountinfo: fields, optional fields, "-", fstype, source, options."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue
        separator = fields.index("-", 6)
        options = set(fields[5].split(",")) | set(fields[separator + 3].split(","))
        mounts.append(
            Mount(
                mount_point=Path(_unescape(fields[4])),
                root=_unescape(fields[3]),
                fstype=fields[separator + 1],
                options=frozenset(options),
            )
        )
    return mounts


def _missing_roles(lacking: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{missing_sentence([name])}: {_ROLE[name]}" for name in lacking)


def plan_hierarchy(
    mounts: list[Mount], v2_available: frozenset[str] | None, *, accept_weaker: bool = False
) -> HierarchyPlan:
    """Choose v2 or v1 from the mounts and the v2 root's cgroup.controllers (None: no v2).

    The first hierarchy with every controller it needs wins (v2 first, so a
    hybrid host whose controllers are bound to v1 gets v1). Otherwise, with
    `accept_weaker`, the usable hierarchy with the most controllers wins, v2
    on a tie (it can still kill a whole cgroup). Otherwise raises
    CgroupUnavailable with a sentence per problem found.
    """
    problems: list[str] = []
    candidates: list[HierarchyPlan] = []
    v2 = next((m for m in mounts if m.fstype == "cgroup2"), None)
    if v2 is not None and v2.read_only:
        problems.append(f"the cgroup filesystem at {v2.mount_point} is read-only")
    elif v2 is not None:
        available = v2_available or frozenset()
        lacking = [name for name in V2_CONTROLLERS if name not in available]
        plan = HierarchyPlan(
            version=2,
            v2_mount=v2.mount_point,
            v1_mounts={},
            controllers=frozenset(V2_CONTROLLERS) & available,
            missing=_missing_roles(lacking),
            local_events="memory_localevents" in v2.options,
        )
        if not lacking:
            return plan
        listed = " ".join(sorted(available)) or "nothing"
        problems.append(
            f"cgroup v2 at {v2.mount_point}: {missing_sentence(lacking)}"
            f" (its cgroup.controllers lists {listed})"
        )
        candidates.append(plan)
    v1: dict[str, Mount] = {}
    for mount in mounts:
        for name in V1_CONTROLLERS:
            if mount.fstype == "cgroup" and name in mount.options:
                v1.setdefault(name, mount)
    read_only = [m for m in v1.values() if m.read_only]
    if read_only:
        problems.append(f"the cgroup filesystem at {read_only[0].mount_point} is read-only")
    elif v1:
        lacking = [name for name in V1_CONTROLLERS if name not in v1]
        plan = HierarchyPlan(
            version=1,
            v2_mount=None,
            v1_mounts={name: mount.mount_point for name, mount in v1.items()},
            controllers=frozenset(v1),
            missing=_missing_roles(lacking),
        )
        if not lacking:
            return plan
        problems.append(f"cgroup v1: {missing_sentence(lacking, 'mounted')}")
        candidates.append(plan)
    if accept_weaker and candidates:
        return max(candidates, key=lambda plan: len(plan.controllers))
    if not problems:
        problems.append("no cgroup filesystem is mounted")
    raise CgroupUnavailable("; ".join(problems))


def build_driver(plan: HierarchyPlan, root_name: str = "sandpit") -> CgroupDriver:
    """The driver for `plan`, not yet prepared."""
    if plan.version == 2 and plan.v2_mount is not None:
        from sandpit.sandbox.cgroups_v2 import V2Driver  # noqa: PLC0415 - they import this module

        return V2Driver(
            plan.v2_mount,
            root_name,
            controllers=plan.controllers,
            missing=plan.missing,
            local_events=plan.local_events,
        )
    from sandpit.sandbox.cgroups_v1 import V1Driver  # noqa: PLC0415 - as above

    return V1Driver(plan.v1_mounts, root_name, missing=plan.missing)


def detect(
    root_name: str = "sandpit",
    *,
    accept_weaker: bool = False,
    mountinfo: Path = Path("/proc/self/mountinfo"),
) -> CgroupDriver:
    """Find this host's cgroups and return a prepared driver rooted at `root_name`.

    Raises CgroupUnavailable, naming what is missing (a controller, a
    writable cgroup filesystem, the permission to create the root), unless
    `accept_weaker` is set and some hierarchy is usable: then the driver's
    `missing` says which limits are not enforced. Raises ValueError for a bad
    `root_name`.
    """
    split_root_name(root_name)
    mounts = parse_mountinfo(read_file(mountinfo))
    v2 = next((m for m in mounts if m.fstype == "cgroup2"), None)
    available = None
    if v2 is not None:
        listed = try_read(v2.mount_point / "cgroup.controllers") or ""
        available = frozenset(listed.split())
    driver = build_driver(plan_hierarchy(mounts, available, accept_weaker=accept_weaker), root_name)
    driver.prepare()
    return driver
