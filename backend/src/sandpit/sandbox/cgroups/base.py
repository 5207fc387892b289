"""The abstract sandbox cgroups that `cgroups_v1` and `cgroups_v2` implement.

A `CgroupDriver` creates, lists and reaps `SandboxCgroup`s, each holding
`Leaf`s (see `sandpit.sandbox.cgroups` for the whole picture); with them, the
pure checks they share on names and limits. Sandbox ids, leaf names and root
parts match strict patterns, so no path leaves the mount points; leaf and
sandbox names contain no dot, so they can never collide with a cgroup
interface file (those are all ``<prefix>.<name>``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path

from sandpit.sandbox.cgroups.errors import CgroupError
from sandpit.sandbox.cgroups.fs import (
    child_dirs,
    make_dir,
    parse_pids,
    procs_under,
    remove_tree,
    try_read,
    write_file,
)
from sandpit.sandbox.limits import Limits

CPU_PERIOD_US = 100_000
"""CFS period: the kernel's default; the quota is `cpus` times this."""

MIN_CPU_QUOTA_US = 1_000
"""The kernel refuses a CFS quota under 1 ms."""

V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer")
"""v1 hierarchies used: the limits, CPU accounting, and the freezer for kill-all."""

V2_CONTROLLERS = ("memory", "pids", "cpu")
"""v2 controllers used; kill and freeze are part of the v2 core."""

_SANDBOX_ID = re.compile(r"[a-z0-9]{1,64}")
_LEAF_NAME = re.compile(r"[a-z0-9-]{1,64}")
# A user's cgroup between the root and their sandboxes. The dash keeps it apart
# from sandbox ids, which have none.
_GROUP = re.compile(r"user-[a-z0-9]{1,64}")
# Parts of the configurable root, e.g. "sandpit" or "sandpit.slice/sandboxes".
_ROOT_PART = re.compile(r"[A-Za-z0-9_@.-]{1,64}")


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


def user_group(owner: str) -> str | None:
    """The name of `owner`'s cgroup between the root and their sandboxes; None for no owner.

    An owner id of 1-64 of [a-z0-9] (the server's are uuid hex) is used as
    is, so an administrator can read it; any other is hashed, so a name
    never leaves the pattern.
    """
    if not owner:
        return None
    if _SANDBOX_ID.fullmatch(owner):
        return f"user-{owner}"
    return "user-" + hashlib.sha256(owner.encode()).hexdigest()[:32]


def validate_group(group: str) -> str:
    """Return `group` if it is a name `user_group` makes; raise ValueError otherwise."""
    if not _GROUP.fullmatch(group):
        raise ValueError(f"invalid user cgroup {group!r}: expected user-<1-64 of [a-z0-9]>")
    return group


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


@dataclass(frozen=True)
class RootLimits:
    """Limits on the cgroup that holds every sandbox: all of them together.

    None leaves that limit off. With them the kernel keeps the sandboxes
    together within `memory_bytes` and `cpus`, so the server and the database
    outside the root always keep the rest of the host.
    """

    memory_bytes: int | None
    cpus: float | None


def memory_in_use(stat: dict[str, int], version: int) -> int:
    """Memory the sandboxes hold that the kernel cannot reclaim: anonymous plus tmpfs.

    `stat` is the root's parsed memory.stat. Page cache is left out on
    purpose: it is reclaimable, and a removed sandbox cgroup's cache is
    charged to the root, so counting it would make the root look full long
    after its sandboxes ended.
    """
    if version == 1:
        return stat.get("total_rss", 0) + stat.get("total_shmem", 0)
    return stat.get("anon", 0) + stat.get("shmem", 0)


CPU_WEIGHT_DEFAULT = 100
"""cgroup v2's default cpu.weight; v1's cpu.shares is 1024 for the same."""


def v1_cpu_shares(weight: int) -> int:
    """v1 cpu.shares for a v2-style `weight` (100 -> 1024), within the kernel's 2..262144."""
    return min(262_144, max(2, weight * 1024 // CPU_WEIGHT_DEFAULT))


def cpu_quota_us(cpus: float) -> int:
    """The CFS quota per `CPU_PERIOD_US` for `cpus` CPUs (1.0 -> 100000, 0.5 -> 50000)."""
    return max(MIN_CPU_QUOTA_US, round(cpus * CPU_PERIOD_US))


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

    def has_own_members(self) -> bool:
        """Whether this cgroup itself, in its first hierarchy, has a process (one read).

        Cheap enough to poll while members finish their exits; not a census:
        descendants and the other hierarchies are `procs()`'s (a process is
        moved into all of a leaf's hierarchies before it runs user code).
        """
        return bool((try_read(self.paths[0] / "cgroup.procs") or "").strip())

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

    def __init__(self, sandbox_id: str, paths: tuple[Path, ...], group: str | None) -> None:
        super().__init__(paths)
        self.sandbox_id = validate_sandbox_id(sandbox_id)
        self.group = None if group is None else validate_group(group)
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

    @abstractmethod
    def apply(self, limits: Limits) -> None:
        """Write `limits` on this cgroup (skipping controllers not in use). Raises CgroupError."""

    def make(self) -> None:
        """Create this cgroup's directories. Raises FileNotFoundError if its parent is gone
        (a user cgroup removed as its last sandbox ended), CgroupError otherwise."""
        for path in self.paths:
            make_dir(path)

    def gather(self, name: str) -> Leaf:
        """Move the processes already in this cgroup itself into a new leaf `name`; return it.

        For a cgroup made by someone else with processes in it (a Docker
        container's, with its init and agent): afterwards it holds processes
        only in leaves, like one made by `CgroupDriver.create_sandbox`, and
        leaves get their controllers. Raises CgroupError.
        """
        leaf = self.leaf(name)
        own: set[int] = set()
        for path in self.paths:
            own |= set(parse_pids(try_read(path / "cgroup.procs") or ""))
        for pid in sorted(own):
            leaf.add(pid)
        self._pass_controllers()
        return leaf

    def _pass_controllers(self) -> None:
        """Give the leaves their controllers once no process is left here (v2 only)."""

    def kill_all(self) -> None:
        """SIGKILL every process of the sandbox, in every leaf (see `CgroupNode.kill`)."""
        self.kill()

    def remove(self) -> None:
        """Kill everything, remove the leaves, then the sandbox cgroup, then its user's
        cgroup if that is left empty (even if the sandbox's was gone); never raises
        if gone."""
        if self.exists():
            self.kill()
            self._remove_dirs()
        # Also when gone already: an engine removes its container's cgroup itself.
        if self.group is not None:
            for path in self.paths:
                # Fails (EBUSY) while the user has another sandbox: it stays then.
                with contextlib.suppress(OSError):
                    os.rmdir(path.parent)


class CgroupDriver(ABC):
    """Creates, lists and reaps sandbox cgroups under ``<mount>/<root_name>``.

    A sandbox of a user sits in that user's cgroup, ``<root>/user-<id>/<sandbox
    id>``; one with no owner (tests, tools) right under the root. The user's
    cgroup has the default CPU weight and, as its CPU limit, one sandbox's:
    so when the CPUs are contended a user with three busy sandboxes weighs as
    much as one with a single sandbox, and can never take more CPU than one
    sandbox may, whatever the number of sandboxes. It is removed with the
    user's last sandbox.

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
    def _sandbox(self, sandbox_id: str, group: str | None) -> SandboxCgroup:
        """The sandbox cgroup object for ``<root>[/<group>]/<sandbox_id>`` (it may not exist)."""

    @abstractmethod
    def open_group(self, group: str, cpus: float) -> None:
        """Create the user cgroup `group` (or open it): default CPU weight, and a CPU
        limit of at least `cpus` for all of the user's sandboxes together (an
        existing higher limit stays: cgroup v1 refuses a parent's limit under
        a child's). Raises ValueError, CgroupError, FileNotFoundError."""

    def group_path(self, group: str) -> str:
        """The user cgroup's path below the mount, e.g. "/sandpit/user-ab12" (an engine's
        cgroup parent)."""
        return "/" + "/".join((*self.root_parts, validate_group(group)))

    def create_sandbox(
        self, sandbox_id: str, limits: Limits, group: str | None = None
    ) -> SandboxCgroup:
        """Create ``<root>[/<group>]/<sandbox_id>`` with `limits`, killing and replacing
        any earlier cgroup of that id; `group` (see `user_group`) is made with
        `open_group` first. Raises ValueError, CgroupError."""
        check_limits(limits)
        validate_sandbox_id(sandbox_id)
        earlier = self.open_sandbox(sandbox_id)
        if earlier is not None:
            earlier.remove()
        # The user's last other sandbox may end, removing the group, between
        # making the group and making the sandbox in it: then again.
        for _ in range(3):
            sandbox = self._sandbox(sandbox_id, group)
            try:
                if group is not None:
                    self.open_group(group, limits.cpus)
                sandbox.make()
            except FileNotFoundError:
                sandbox.remove()
                continue
            except OSError as error:
                sandbox.remove()
                raise CgroupError(f"cannot create the cgroup of {sandbox_id}: {error}") from error
            try:
                sandbox.apply(limits)
            except BaseException:
                sandbox.remove()
                raise
            return sandbox
        raise CgroupError(f"the user cgroup {group} kept vanishing while {sandbox_id} started")

    def open_sandbox(self, sandbox_id: str) -> SandboxCgroup | None:
        """The existing cgroup of `sandbox_id`, in any user's cgroup (to re-adopt it), or None."""
        validate_sandbox_id(sandbox_id)
        for group in (None, *self.groups()):
            sandbox = self._sandbox(sandbox_id, group)
            if sandbox.exists():
                return sandbox
        return None

    def groups(self) -> list[str]:
        """The user cgroups under the root, in any hierarchy, sorted."""
        names: set[str] = set()
        for root in self.root_dirs:
            names |= {child.name for child in child_dirs(root)}
        return sorted(name for name in names if _GROUP.fullmatch(name))

    def list_sandboxes(self) -> list[str]:
        """Ids of every sandbox cgroup under the root or a user's, in any hierarchy, sorted."""
        names: set[str] = set()
        for root in self.root_dirs:
            for child in child_dirs(root):
                if _GROUP.fullmatch(child.name):
                    names |= {grandchild.name for grandchild in child_dirs(child)}
                else:
                    names.add(child.name)
        return sorted(name for name in names if _SANDBOX_ID.fullmatch(name))

    def reap(self, keep: Set[str] = frozenset()) -> list[str]:
        """Kill and remove every sandbox cgroup not in `keep`, then the user cgroups left
        empty; return the ids reaped.

        Used at server start after a crash, so no orphan process or cgroup remains.
        """
        reaped = []
        for sandbox_id in self.list_sandboxes():
            sandbox = self.open_sandbox(sandbox_id)
            if sandbox_id not in keep and sandbox is not None:
                sandbox.remove()
                reaped.append(sandbox_id)
        for group in self.groups():
            for root in self.root_dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(root / group)
        return reaped

    @abstractmethod
    def limit_root(self, limits: RootLimits) -> None:
        """Put `limits` on the root that holds every sandbox. Raises CgroupError."""

    @abstractmethod
    def root_memory_in_use(self) -> int | None:
        """Memory all sandboxes hold now (see `memory_in_use`); None if unknown."""

    def remove_root(self) -> None:
        """Reap every sandbox, then remove the root's last part (tests, uninstall)."""
        self.reap()
        for root in self.root_dirs:
            remove_tree(root)
