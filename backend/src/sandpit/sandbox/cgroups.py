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
abstract classes of `cgroups_base` on the sysfs helpers of `cgroups_fs`, and
`cgroups_detect` picks one; the errors are in `cgroups_errors`. This module
re-exports what callers use, so they import from here alone. Every call is a
few synchronous sysfs reads and writes; a caller on an event loop runs them in
a thread.

Paths: every directory is ``<mount point>/<root parts>/<sandbox id>/<leaf>``,
each part checked against a strict pattern, so no path leaves the mount points
found in /proc/self/mountinfo. cgroupfs cannot hold symlinks; files are still
opened with O_NOFOLLOW and directories listed without following links, so these
modules never follow one. Leaf and sandbox names contain no dot, so they can
never collide with a cgroup interface file (those are all ``<prefix>.<name>``).

Errors: `CgroupUnavailable` (a `SandpitError`, 503) when this host's cgroups
cannot enforce the limits, with a sentence naming what is missing;
`CgroupError` when an operation fails on a host whose cgroups otherwise work
(a platform failure); `ValueError` for a malformed id or impossible limits.
"""

from __future__ import annotations

from sandpit.sandbox.cgroups_base import (
    CPU_PERIOD_US,
    MIN_CPU_QUOTA_US,
    V1_CONTROLLERS,
    V2_CONTROLLERS,
    CgroupDriver,
    CgroupNode,
    CgroupStats,
    Leaf,
    SandboxCgroup,
    check_limits,
    cpu_quota_us,
    split_root_name,
    validate_leaf_name,
    validate_sandbox_id,
)
from sandpit.sandbox.cgroups_detect import (
    HierarchyPlan,
    Mount,
    build_driver,
    detect,
    missing_sentence,
    parse_mountinfo,
    plan_hierarchy,
)
from sandpit.sandbox.cgroups_errors import CgroupError, CgroupUnavailable, unavailable
from sandpit.sandbox.cgroups_fs import (
    KILL_TIMEOUT_S,
    child_dirs,
    controller_of,
    kill_until_empty,
    make_dir,
    parse_keyed,
    parse_limit,
    parse_pids,
    prepare_dir,
    procs_under,
    read_file,
    remove_tree,
    signal_members,
    try_read,
    unique_paths,
    wait_until,
    write_file,
)

__all__ = [
    "CPU_PERIOD_US",
    "KILL_TIMEOUT_S",
    "MIN_CPU_QUOTA_US",
    "V1_CONTROLLERS",
    "V2_CONTROLLERS",
    "CgroupDriver",
    "CgroupError",
    "CgroupNode",
    "CgroupStats",
    "CgroupUnavailable",
    "HierarchyPlan",
    "Leaf",
    "Mount",
    "SandboxCgroup",
    "build_driver",
    "check_limits",
    "child_dirs",
    "controller_of",
    "cpu_quota_us",
    "detect",
    "kill_until_empty",
    "make_dir",
    "missing_sentence",
    "parse_keyed",
    "parse_limit",
    "parse_mountinfo",
    "parse_pids",
    "plan_hierarchy",
    "prepare_dir",
    "procs_under",
    "read_file",
    "remove_tree",
    "signal_members",
    "split_root_name",
    "try_read",
    "unavailable",
    "unique_paths",
    "validate_leaf_name",
    "validate_sandbox_id",
    "wait_until",
    "write_file",
]
