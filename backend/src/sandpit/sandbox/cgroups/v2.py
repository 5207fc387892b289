"""cgroup v2: one unified hierarchy.

Layout: ``<mount>/<root>/[user-<id>/]<sandbox id>/<leaf>`` (the user's
cgroup: see `CgroupDriver`). Controllers are enabled on
the way down through cgroup.subtree_control: memory, pids and cpu on every
level down to the sandbox, whose limits they carry; memory and pids in the
sandbox as well, so each leaf has its own memory.events, memory.oom_group and
pids.current. The sandbox cgroup never holds a process, only its leaves do:
cgroup v2 lets only a cgroup without processes pass controllers down.

Kill: cgroup.kill (Linux 5.14+) SIGKILLs every member at once, forks
included. Before 5.14 the freezer (cgroup.freeze, 5.2+) stands in, as on v1.

OOM accounting: memory.events counts ``oom_kill`` in the victim's cgroup and,
unless the hierarchy is mounted with memory_localevents, in every ancestor;
memory.events.local counts only the cgroup's own. A leaf has no children, so
both agree there; for the sandbox memory.events is the total over every leaf,
removed ones included. With memory_localevents the total is summed as on v1.

OOM group: ``leaf(name, oom_group=True)`` sets memory.oom_group on the leaf.
When the OOM killer, acting on the sandbox's limit, picks a victim in that
leaf, the kernel kills every process of the leaf: a run ends as a whole, with
status oom. It is never set on the sandbox: one run's excess would then kill
the agent and every terminal too.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Set
from dataclasses import dataclass
from pathlib import Path

from sandpit.sandbox.cgroups.base import (
    CPU_PERIOD_US,
    CPU_WEIGHT_DEFAULT,
    V2_CONTROLLERS,
    CgroupDriver,
    CgroupStats,
    Leaf,
    RootLimits,
    SandboxCgroup,
    cpu_quota_us,
    memory_in_use,
    validate_group,
    validate_leaf_name,
    validate_sandbox_id,
)
from sandpit.sandbox.cgroups.errors import CgroupError, CgroupUnavailable, unavailable
from sandpit.sandbox.cgroups.fs import (
    KILL_TIMEOUT_S,
    controller_of,
    kill_until_empty,
    make_dir,
    parse_keyed,
    parse_limit,
    prepare_dir,
    try_read,
    wait_until,
    write_file,
)
from sandpit.sandbox.limits import Limits

_FREEZE_WAIT_S = 1.0
# Controllers a sandbox passes to its leaves: per-leaf OOM events, oom_group
# and pids.current. cpu is not needed: cpu.stat exists in every v2 cgroup.
_LEAF_CONTROLLERS = frozenset({"memory", "pids"})


def v2_limit_files(limits: Limits, *, swap: bool) -> list[tuple[str, str]]:
    """The (file, value) pairs that put `limits` on a v2 sandbox cgroup, in write order.

    The controller is each file's prefix. memory.swap.max is the swap alone
    (memory+swap minus memory); `swap`: whether swap accounting exists.
    """
    files = [("memory.max", str(limits.memory_bytes))]
    if swap:
        files.append(("memory.swap.max", str(limits.memory_swap_bytes - limits.memory_bytes)))
    files += [
        ("cpu.max", f"{cpu_quota_us(limits.cpus)} {CPU_PERIOD_US}"),
        ("pids.max", str(limits.pids)),
    ]
    return files


def v2_root_limit_files(limits: RootLimits) -> list[tuple[str, str]]:
    """The (file, value) pairs that put `limits` on the v2 root of every sandbox ("max": none)."""
    memory = "max" if limits.memory_bytes is None else str(limits.memory_bytes)
    quota = "max" if limits.cpus is None else str(cpu_quota_us(limits.cpus))
    return [("memory.max", memory), ("cpu.max", f"{quota} {CPU_PERIOD_US}")]


def enable_controllers(path: Path, names: Set[str]) -> None:
    """Add `names` to path/cgroup.subtree_control (those not there yet). Raises OSError."""
    control = path / "cgroup.subtree_control"
    enabled = set((try_read(control) or "").split())
    for name in sorted(set(names) - enabled):
        write_file(control, f"+{name}")


@dataclass(frozen=True)
class _Options:
    controllers: frozenset[str]
    local_events: bool
    freezer_kill: bool


def _events(path: Path, file_name: str = "cgroup.events") -> dict[str, int]:
    return parse_keyed(try_read(path / file_name) or "")


def _set_frozen(path: Path, frozen: bool) -> None:
    try:
        write_file(path / "cgroup.freeze", "1" if frozen else "0")
    except FileNotFoundError:
        return
    if frozen:
        # A task in uninterruptible sleep can delay "frozen 1"; the SIGKILL
        # still lands when it wakes, so the kill goes on regardless.
        wait_until(lambda: _events(path).get("frozen", 1) == 1, _FREEZE_WAIT_S)


def _kill(path: Path, list_pids: Callable[[], list[int]], what: str, options: _Options) -> None:
    if not options.freezer_kill and (path / "cgroup.kill").exists():
        try:
            write_file(path / "cgroup.kill", "1")
        except FileNotFoundError:
            return
        except OSError as error:
            raise CgroupError(f"cannot kill {what}: {error}") from error
        if not wait_until(lambda: _events(path).get("populated", 0) == 0, KILL_TIMEOUT_S):
            raise CgroupError(f"processes {list_pids()[:10]} in {what} survived cgroup.kill")
        return
    if not (path / "cgroup.freeze").exists():
        kill_until_empty(list_pids, what=what)
        return
    kill_until_empty(
        list_pids,
        freeze=lambda: _set_frozen(path, True),
        thaw=lambda: _set_frozen(path, False),
        what=what,
    )


class V2Leaf(Leaf):
    """A leaf cgroup at `path`."""

    def __init__(
        self, name: str, path: Path, options: _Options, on_removed: Callable[[int], None]
    ) -> None:
        super().__init__(name, (path,), on_removed)
        self.path = path
        self._options = options

    def kill(self) -> None:
        _kill(self.path, self.procs, f"leaf {self.name}", self._options)

    def oom_killed(self) -> int:
        return _events(self.path, "memory.events").get("oom_kill", 0)


class V2Sandbox(SandboxCgroup):
    """A sandbox cgroup at `path`: the limits; processes only in its leaves."""

    def __init__(self, sandbox_id: str, path: Path, options: _Options, group: str | None) -> None:
        super().__init__(sandbox_id, (path,), group)
        self.path = path
        self._options = options

    def apply(self, limits: Limits) -> None:
        """Write `limits` (skipping absent controllers), then pass controllers to the leaves.

        Raises CgroupError.
        """
        swap = (self.path / "memory.swap.max").exists()
        try:
            for file_name, value in v2_limit_files(limits, swap=swap):
                if controller_of(file_name) in self._options.controllers:
                    write_file(self.path / file_name, value)
            enable_controllers(self.path, self._options.controllers & _LEAF_CONTROLLERS)
        except OSError as error:
            raise CgroupError(f"cannot set the limits of {self.path}: {error}") from error

    def _pass_controllers(self) -> None:
        try:
            enable_controllers(self.path, self._options.controllers & _LEAF_CONTROLLERS)
        except OSError as error:
            raise CgroupError(f"cannot pass controllers below {self.path}: {error}") from error

    def _open_leaf(self, name: str) -> V2Leaf:
        validate_leaf_name(name)
        return V2Leaf(name, self.path / name, self._options, self._count_removed)

    def leaf(self, name: str, *, oom_group: bool = False) -> Leaf:
        leaf = self._open_leaf(name)
        try:
            make_dir(leaf.path)
            if oom_group and "memory" in self._options.controllers:
                write_file(leaf.path / "memory.oom_group", "1")
        except OSError as error:
            raise CgroupError(f"cannot create cgroup {leaf.path}: {error}") from error
        return leaf

    def kill(self) -> None:
        # cgroup.kill and cgroup.freeze act on the whole subtree: every leaf.
        _kill(self.path, self.procs, f"sandbox {self.sandbox_id}", self._options)

    def _oom_kills(self) -> int:
        if not self._options.local_events:
            return _events(self.path, "memory.events").get("oom_kill", 0)
        own = _events(self.path, "memory.events.local").get("oom_kill", 0)
        return own + self._removed_oom_kills + sum(leaf.oom_killed() for leaf in self.leaves())

    def stats(self) -> CgroupStats:
        pids = try_read(self.path / "pids.current")
        return CgroupStats(
            memory_bytes=int(try_read(self.path / "memory.current") or 0),
            memory_limit_bytes=parse_limit(try_read(self.path / "memory.max") or "max"),
            cpu_usage_ns=_events(self.path, "cpu.stat").get("usage_usec", 0) * 1000,
            pids=int(pids) if pids is not None else len(self.procs()),
            pids_limit=parse_limit(try_read(self.path / "pids.max") or "max"),
            oom_kills=self._oom_kills(),
        )


class V2Driver(CgroupDriver):
    """Sandbox cgroups under ``<mount>/<root_name>`` on a cgroup v2 hierarchy.

    `controllers`: those of `V2_CONTROLLERS` to use (fewer only with
    `accept_weaker`, or in tests on a hierarchy without controllers).
    `freezer_kill`: kill through cgroup.freeze even where cgroup.kill exists
    (tests of the path older kernels take).
    """

    version = 2

    def __init__(
        self,
        mount: Path,
        root_name: str = "sandpit",
        *,
        controllers: Set[str] = frozenset(V2_CONTROLLERS),
        missing: tuple[str, ...] = (),
        local_events: bool = False,
        freezer_kill: bool = False,
    ) -> None:
        super().__init__(root_name, missing)
        self.mount = mount
        self.controllers = frozenset(controllers) & frozenset(V2_CONTROLLERS)
        self.root = mount.joinpath(*self.root_parts)
        self._options = _Options(self.controllers, local_events, freezer_kill)

    @property
    def root_dirs(self) -> tuple[Path, ...]:
        return (self.root,)

    def prepare(self) -> None:
        path = self.mount
        for part in self.root_parts:
            self._enable(path)
            path = path / part
            prepare_dir(path)
        self._enable(self.root)
        if "memory" in self.controllers and not (self.root / "memory.swap.max").exists():
            self.notes = ("swap accounting is off: memory+swap is not capped",)

    def _enable(self, path: Path) -> None:
        try:
            enable_controllers(path, self.controllers)
        except OSError as error:
            if error.errno == errno.EBUSY:
                raise CgroupUnavailable(
                    f"cannot enable controllers below {path}: it holds processes, and"
                    " cgroup v2 passes controllers down only from a cgroup without"
                    " processes (choose a cgroup root outside the server's own cgroup)"
                ) from error
            raise unavailable(error, "enable controllers in", path) from error

    def limit_root(self, limits: RootLimits) -> None:
        try:
            for file_name, value in v2_root_limit_files(limits):
                if controller_of(file_name) in self.controllers:
                    write_file(self.root / file_name, value)
        except OSError as error:
            raise CgroupError(f"cannot set the limits of {self.root}: {error}") from error

    def root_memory_in_use(self) -> int | None:
        text = try_read(self.root / "memory.stat") if "memory" in self.controllers else None
        return None if text is None else memory_in_use(parse_keyed(text), 2)

    def _sandbox(self, sandbox_id: str, group: str | None) -> V2Sandbox:
        validate_sandbox_id(sandbox_id)
        parent = self.root if group is None else self.root / validate_group(group)
        return V2Sandbox(sandbox_id, parent / sandbox_id, self._options, group)

    def open_group(self, group: str, cpus: float) -> None:
        path = self.root / validate_group(group)
        make_dir(path)
        files = []
        if "cpu" in self.controllers:
            # An existing higher limit stays, as on v1 (a sandbox may ask more than another).
            current = (try_read(path / "cpu.max") or "max").split()[0]
            quota = cpu_quota_us(cpus)
            if current != "max" and int(current) > quota:
                quota = int(current)
            files = [
                ("cpu.weight", str(CPU_WEIGHT_DEFAULT)),
                ("cpu.max", f"{quota} {CPU_PERIOD_US}"),
            ]
        try:
            enable_controllers(path, self.controllers)
            for file_name, value in files:
                write_file(path / file_name, value)
        except FileNotFoundError:
            raise
        except OSError as error:
            raise CgroupError(f"cannot set the limits of {path}: {error}") from error
