"""Finding this host's cgroups: read /proc/self/mountinfo, choose v2 or v1, build the driver.

`detect` is the entry point (callers reach it as `sandpit.sandbox.cgroups.detect`);
`parse_mountinfo` and `plan_hierarchy` are pure, so the choice is tested on
literal mount tables.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sandpit.sandbox.cgroups.base import (
    V1_CONTROLLERS,
    V2_CONTROLLERS,
    CgroupDriver,
    split_root_name,
)
from sandpit.sandbox.cgroups.errors import CgroupUnavailable
from sandpit.sandbox.cgroups.fs import read_file, try_read
from sandpit.sandbox.cgroups.v1 import V1Driver
from sandpit.sandbox.cgroups.v2 import V2Driver

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


def missing_sentence(missing: Iterable[str], verb: str = "available") -> str:
    """ "the memory controller is not available" / "the memory and pids controllers are..."."""
    names = list(missing)
    if len(names) == 1:
        return f"the {names[0]} controller is not {verb}"
    listed = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"the {listed} controllers are not {verb}"


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
        return V2Driver(
            plan.v2_mount,
            root_name,
            controllers=plan.controllers,
            missing=plan.missing,
            local_events=plan.local_events,
        )
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
