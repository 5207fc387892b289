"""Per-sandbox cgroups: limits for a whole sandbox, and a leaf per process group.

The server (root) gives every sandbox its own cgroup ``<root>/<sandbox_id>``
(``<root>/user-<owner>/<sandbox_id>`` for a user's: that level shares the
CPU per user, see `CgroupDriver`) holding the sandbox-wide limits (security
invariant 2) and, beneath it, one leaf per group of processes: ``agent``
for the sandbox's init, ``run-<id>`` per run, ``term-<id>`` per terminal.
A leaf can be killed as a whole, forks and double-forked daemons included,
which is how a run's timeout ends everything the run started; the limits on
the parent hold for all the leaves together::

    driver = detect()                        # or raises CgroupUnavailable
    sandbox = driver.create_sandbox("ab12", Limits())
    run = sandbox.leaf("run-7", oom_group=True)
    run.add(pid)                             # before the process runs user code
    ...
    status = "oom" if run.oom_killed() else status
    run.remove()                             # kills what is left, then rmdir
    sandbox.remove()
    driver.reap(keep=live_ids)               # at server start: no orphans

cgroup v2 (one hierarchy) lives in `v2`, v1 (a hierarchy per controller, the
same path created in each) in `v1`; both implement the abstract classes of
`base` on the sysfs helpers of `fs`, and `detect` picks one; the errors are in
`errors`. This package exports only what the rest of the server uses (a
driver, a sandbox's cgroup and its leaves, the errors); the helpers stay in
their modules. Every call is a
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

from sandpit.sandbox.cgroups.base import (
    CgroupDriver,
    CgroupNode,
    CgroupStats,
    Leaf,
    RootLimits,
    SandboxCgroup,
    user_group,
)
from sandpit.sandbox.cgroups.detect import detect
from sandpit.sandbox.cgroups.errors import CgroupError, CgroupUnavailable

__all__ = [
    "CgroupDriver",
    "CgroupError",
    "CgroupNode",
    "CgroupStats",
    "CgroupUnavailable",
    "Leaf",
    "RootLimits",
    "SandboxCgroup",
    "detect",
    "user_group",
]
