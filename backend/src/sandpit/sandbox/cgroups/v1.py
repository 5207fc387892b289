"""cgroup v1: a hierarchy per controller, the same cgroup path created in each.

Layout: ``<mount of c>/<root>/[user-<id>/]<sandbox id>[/<leaf>]`` (the
user's cgroup: see `CgroupDriver`) for every controller c
of `V1_CONTROLLERS` that is mounted (cpu and cpuacct, when co-mounted, share
one directory). The limits sit on the sandbox cgroup; memory (with
use_hierarchy), pids and cpu are hierarchical, so they bound the leaves
together.

Kill: the freezer freezes the cgroup, so no member can fork or exit while its
pids are listed and signalled; thawing lets the SIGKILLs land. Without a
freezer (only with `accept_weaker`), kills are repeated rounds of SIGKILL.

OOM accounting (measured on Linux 6.18, see tests/sandbox/test_cgroups.py):
memory.oom_control's ``oom_kill`` counts the OOM kills of the cgroup's *own*
tasks, and v1, unlike v2, never adds it to the ancestors. A process of leaf
``run-1`` killed under the sandbox's limit moves run-1's counter to 1 and
leaves the sandbox's, where the limit is, at 0. So `V1Leaf.oom_killed` reads
the leaf, and the sandbox's total is its own counter plus its leaves', plus
a tally of the leaves removed through this object.

Swap: memory.memsw.limit_in_bytes exists only with swap accounting
(CONFIG_MEMCG_SWAP, ``swapaccount=1``). Without it memory+swap cannot be
capped: memory.swappiness=0, written whenever no swap is allowed, keeps the
kernel from swapping the sandbox's anonymous memory, and `notes` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from sandpit.sandbox.cgroups.base import (
    CPU_PERIOD_US,
    CPU_WEIGHT_DEFAULT,
    V1_CONTROLLERS,
    CgroupDriver,
    CgroupStats,
    Leaf,
    RootLimits,
    SandboxCgroup,
    cpu_quota_us,
    memory_in_use,
    v1_cpu_shares,
    validate_group,
    validate_leaf_name,
    validate_sandbox_id,
)
from sandpit.sandbox.cgroups.errors import CgroupError, CgroupUnavailable
from sandpit.sandbox.cgroups.fs import (
    controller_of,
    kill_until_empty,
    make_dir,
    parse_keyed,
    parse_limit,
    prepare_dir,
    read_file,
    try_read,
    unique_paths,
    wait_until,
    write_file,
)
from sandpit.sandbox.limits import Limits

_FREEZE_WAIT_S = 1.0


def v1_limit_files(limits: Limits, *, memsw: bool) -> list[tuple[str, str]]:
    """The (file, value) pairs that put `limits` on a v1 sandbox cgroup, in write order.

    The controller is each file's prefix. memory.limit_in_bytes comes before
    memory.memsw.limit_in_bytes because the kernel refuses a memory+swap
    limit below the memory limit. `memsw`: whether swap accounting exists.
    """
    files = [("memory.limit_in_bytes", str(limits.memory_bytes))]
    if memsw:
        files.append(("memory.memsw.limit_in_bytes", str(limits.memory_swap_bytes)))
    if limits.memory_swap_bytes == limits.memory_bytes:
        files.append(("memory.swappiness", "0"))
    files += [
        ("cpu.cfs_period_us", str(CPU_PERIOD_US)),
        ("cpu.cfs_quota_us", str(cpu_quota_us(limits.cpus))),
        ("pids.max", str(limits.pids)),
    ]
    return files


def v1_root_limit_files(limits: RootLimits) -> list[tuple[str, str]]:
    """The (file, value) pairs that put `limits` on the v1 root of every sandbox.

    "-1" lifts a limit. The period is written before the quota: the kernel
    checks a quota against the period in force.
    """
    memory = "-1" if limits.memory_bytes is None else str(limits.memory_bytes)
    quota = "-1" if limits.cpus is None else str(cpu_quota_us(limits.cpus))
    return [
        ("memory.limit_in_bytes", memory),
        ("cpu.cfs_period_us", str(CPU_PERIOD_US)),
        ("cpu.cfs_quota_us", quota),
    ]


def _write_limits(dirs: Mapping[str, Path], files: list[tuple[str, str]]) -> None:
    """Write each (file name, value) in its controller's directory of `dirs`, in order.

    Files of a controller not in `dirs` (not mounted) are skipped. Raises
    CgroupError naming the first write that fails.
    """
    for file_name, value in files:
        directory = dirs.get(controller_of(file_name))
        if directory is None:
            continue
        try:
            write_file(directory / file_name, value)
        except OSError as error:
            message = f"cannot write {value} to {directory / file_name}: {error}"
            raise CgroupError(message) from error


def _freeze(freezer: Path) -> None:
    try:
        write_file(freezer / "freezer.state", "FROZEN")
    except FileNotFoundError:
        return
    # A task in uninterruptible sleep can hold the cgroup in FREEZING; the
    # SIGKILL still lands when it wakes, so the kill goes on regardless.
    wait_until(
        lambda: (try_read(freezer / "freezer.state") or "").strip() != "FREEZING",
        _FREEZE_WAIT_S,
    )


def _thaw(freezer: Path) -> None:
    try:
        write_file(freezer / "freezer.state", "THAWED")
    except FileNotFoundError:
        return


def _kill(dirs: Mapping[str, Path], list_pids: Callable[[], list[int]], what: str) -> None:
    freezer = dirs.get("freezer")
    if freezer is None:
        kill_until_empty(list_pids, what=what)
        return
    kill_until_empty(
        list_pids, freeze=lambda: _freeze(freezer), thaw=lambda: _thaw(freezer), what=what
    )


def _oom_kills(memory_dir: Path | None) -> int:
    text = try_read(memory_dir / "memory.oom_control") if memory_dir else None
    return parse_keyed(text or "").get("oom_kill", 0)


def _number(dirs: Mapping[str, Path], file_name: str) -> str | None:
    directory = dirs.get(controller_of(file_name))
    return try_read(directory / file_name) if directory else None


class V1Leaf(Leaf):
    """A leaf: the same path in each hierarchy (`dirs`: controller -> directory)."""

    def __init__(
        self, name: str, dirs: Mapping[str, Path], on_removed: Callable[[int], None]
    ) -> None:
        super().__init__(name, unique_paths(dirs.values()), on_removed)
        self.dirs = dict(dirs)

    def kill(self) -> None:
        _kill(self.dirs, self.procs, f"leaf {self.name}")

    def oom_killed(self) -> int:
        # The leaf's own counter: v1 counts a kill in the victim's cgroup only.
        return _oom_kills(self.dirs.get("memory"))


class V1Sandbox(SandboxCgroup):
    """A sandbox cgroup: the same path in each hierarchy (`dirs`: controller -> directory)."""

    def __init__(self, sandbox_id: str, dirs: Mapping[str, Path], group: str | None) -> None:
        super().__init__(sandbox_id, unique_paths(dirs.values()), group)
        self.dirs = dict(dirs)

    def apply(self, limits: Limits) -> None:
        """Write `limits`, skipping controllers that are not mounted. Raises CgroupError."""
        memory = self.dirs.get("memory")
        memsw = memory is not None and (memory / "memory.memsw.limit_in_bytes").exists()
        _write_limits(self.dirs, v1_limit_files(limits, memsw=memsw))

    def _open_leaf(self, name: str) -> V1Leaf:
        validate_leaf_name(name)
        dirs = {controller: path / name for controller, path in self.dirs.items()}
        return V1Leaf(name, dirs, self._count_removed)

    def leaf(self, name: str, *, oom_group: bool = False) -> Leaf:
        # oom_group has no v1 counterpart: see SandboxCgroup.leaf.
        leaf = self._open_leaf(name)
        for path in leaf.paths:
            try:
                make_dir(path)
            except OSError as error:
                raise CgroupError(f"cannot create cgroup {path}: {error}") from error
        return leaf

    def kill(self) -> None:
        # Freezing the sandbox freezes every leaf beneath it.
        _kill(self.dirs, self.procs, f"sandbox {self.sandbox_id}")

    def stats(self) -> CgroupStats:
        pids = _number(self.dirs, "pids.current")
        oom_kills = _oom_kills(self.dirs.get("memory")) + self._removed_oom_kills
        oom_kills += sum(leaf.oom_killed() for leaf in self.leaves())
        return CgroupStats(
            memory_bytes=int(_number(self.dirs, "memory.usage_in_bytes") or 0),
            memory_limit_bytes=parse_limit(_number(self.dirs, "memory.limit_in_bytes") or "max"),
            cpu_usage_ns=int(_number(self.dirs, "cpuacct.usage") or 0),
            pids=int(pids) if pids is not None else len(self.procs()),
            pids_limit=parse_limit(_number(self.dirs, "pids.max") or "max"),
            oom_kills=oom_kills,
        )


class V1Driver(CgroupDriver):
    """Sandbox cgroups on v1 hierarchies; `mounts` maps each controller to its mount point."""

    version = 1

    def __init__(
        self,
        mounts: Mapping[str, Path],
        root_name: str = "sandpit",
        *,
        missing: tuple[str, ...] = (),
    ) -> None:
        super().__init__(root_name, missing)
        self.mounts = {name: Path(m) for name, m in mounts.items() if name in V1_CONTROLLERS}
        self.controllers = frozenset(self.mounts)
        self._roots = {name: m.joinpath(*self.root_parts) for name, m in self.mounts.items()}

    @property
    def root_dirs(self) -> tuple[Path, ...]:
        return unique_paths(self._roots.values())

    def prepare(self) -> None:
        for mount in unique_paths(self.mounts.values()):
            path = mount
            for part in self.root_parts:
                path = path / part
                prepare_dir(path)
        memory = self._roots.get("memory")
        if memory is not None:
            self._check_hierarchy(memory)
            if not (memory / "memory.memsw.limit_in_bytes").exists():
                self.notes = (
                    "swap accounting is off (boot with swapaccount=1): memory+swap is not"
                    " capped; memory.swappiness=0 keeps sandboxes from swapping",
                )

    @staticmethod
    def _check_hierarchy(memory_root: Path) -> None:
        # Without use_hierarchy (kernels before 5.16 allowed turning it off) a
        # limit on the sandbox would not cover its leaves.
        flag = memory_root / "memory.use_hierarchy"
        try:
            if read_file(flag).strip() == "0":
                write_file(flag, "1")
        except FileNotFoundError:
            return
        except OSError as error:
            raise CgroupUnavailable(
                f"{flag} is 0 and cannot be set to 1, so a sandbox's memory limit"
                f" would not cover its processes: {error.strerror}"
            ) from error

    def limit_root(self, limits: RootLimits) -> None:
        _write_limits(self._roots, v1_root_limit_files(limits))

    def root_memory_in_use(self) -> int | None:
        memory = self._roots.get("memory")
        text = try_read(memory / "memory.stat") if memory is not None else None
        return None if text is None else memory_in_use(parse_keyed(text), 1)

    def _sandbox(self, sandbox_id: str, group: str | None) -> V1Sandbox:
        validate_sandbox_id(sandbox_id)
        parts = (sandbox_id,) if group is None else (validate_group(group), sandbox_id)
        dirs = {name: root.joinpath(*parts) for name, root in self._roots.items()}
        return V1Sandbox(sandbox_id, dirs, group)

    def open_group(self, group: str, cpus: float) -> None:
        validate_group(group)
        for root in unique_paths(self._roots.values()):
            make_dir(root / group)
        directory = self._roots.get("cpu")
        if directory is None:
            return
        directory = directory / group
        current = int(try_read(directory / "cpu.cfs_quota_us") or "-1")
        quota = cpu_quota_us(cpus)
        files = [("cpu.shares", str(v1_cpu_shares(CPU_WEIGHT_DEFAULT)))]
        if 0 <= current < quota:
            files.append(("cpu.cfs_quota_us", str(quota)))
        elif current < 0:
            files += [("cpu.cfs_period_us", str(CPU_PERIOD_US)), ("cpu.cfs_quota_us", str(quota))]
        _write_limits({"cpu": directory}, files)
