"""The cgroup v2 kill and process paths, on a cgroup2 hierarchy without controllers.

That is a hybrid host's /sys/fs/cgroup/unified, or one mounted for the
test: it has cgroup.procs, cgroup.kill, cgroup.freeze and cgroup.events, so
these paths run on a v1 host too, once killing through cgroup.kill and once
through the freezer. The root is random (``sandpit-test-v2-<hex>``) and
removed afterwards; every child process is killed and waited for at
teardown.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandpit.sandbox.cgroups import RootLimits
from sandpit.sandbox.cgroups.detect import parse_mountinfo
from sandpit.sandbox.cgroups.fs import read_file, wait_until
from sandpit.sandbox.cgroups.v2 import V2Driver
from tests.sandbox.live_cgroups import (
    FORK_CHURN,
    SMALL,
    Children,
    in_cgroup_itself,
    random_root,
    read_line,
)


@contextlib.contextmanager
def cgroup2_mount() -> Iterator[Path]:
    """A mounted cgroup2 hierarchy: the host's, or one mounted for the test."""
    mounts = parse_mountinfo(read_file(Path("/proc/self/mountinfo")))
    found = next((m for m in mounts if m.fstype == "cgroup2" and not m.read_only), None)
    if found is not None:
        yield found.mount_point
        return
    with tempfile.TemporaryDirectory() as directory:
        mounted = subprocess.run(["mount", "-t", "cgroup2", "none", directory], check=False)
        if mounted.returncode != 0:
            pytest.skip("no cgroup2 hierarchy is mounted and none can be")
        try:
            yield Path(directory)
        finally:
            subprocess.run(["umount", directory], check=True)


@pytest.fixture(params=["cgroup.kill", "cgroup.freeze"])
def v2_driver(request: pytest.FixtureRequest) -> Iterator[V2Driver]:
    """A v2 driver with no controllers, killing through cgroup.kill or the freezer."""
    if os.geteuid() != 0:
        pytest.skip("creating cgroups needs root, as the server has")
    with cgroup2_mount() as mount:
        found = V2Driver(
            mount,
            random_root("sandpit-test-v2"),
            controllers=frozenset(),
            freezer_kill=request.param == "cgroup.freeze",
        )
        found.prepare()
        yield found
        found.remove_root()
        assert not found.root.exists()


def test_v2_kill_empties_a_leaf_that_keeps_forking(v2_driver: V2Driver, children: Children) -> None:
    sandbox = v2_driver.create_sandbox("forks", SMALL)
    run, agent = sandbox.leaf("run-1", oom_group=True), sandbox.leaf("agent")
    sleeper = children.in_leaf(agent, "import time; time.sleep(100)")
    assert agent.procs() == [sleeper.pid]
    children.in_leaf(run, FORK_CHURN)
    assert wait_until(lambda: len(run.procs()) >= 5, 20)
    run.kill()
    assert run.procs() == []
    assert agent.procs() == [sleeper.pid]
    assert run.oom_killed() == 0  # no memory controller: no events file
    run.remove()
    assert not any(path.exists() for path in run.paths)


def test_v2_stats_remove_and_reap(v2_driver: V2Driver, children: Children) -> None:
    sandbox = v2_driver.create_sandbox("stats", SMALL)
    burner = children.in_leaf(
        sandbox.leaf("run-1"),
        "import time\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < 0.1:\n"
        "    pass\n"
        "print('done', flush=True)\n"
        "time.sleep(100)\n",
    )
    assert read_line(burner) == "done"
    stats = sandbox.stats()
    assert (stats.pids, stats.pids_limit, stats.memory_limit_bytes) == (1, None, None)
    assert stats.cpu_usage_ns >= 50_000_000  # cpu.stat is in every v2 cgroup
    stale = v2_driver.create_sandbox("stale", SMALL)
    daemon = children.in_leaf(stale.leaf("agent"), "import time; time.sleep(100)")
    assert v2_driver.reap(keep={"stats"}) == ["stale"]
    assert daemon.wait(timeout=10) == -9
    sandbox.kill_all()
    assert burner.wait(timeout=10) == -9
    sandbox.remove()
    assert v2_driver.list_sandboxes() == []


def test_v2_gather_passes_controllers_down_once_the_cgroup_is_empty(
    v2_driver: V2Driver, children: Children
) -> None:
    sandbox = v2_driver.create_sandbox("engine", SMALL)
    init = in_cgroup_itself(sandbox, children)
    agent = sandbox.gather("agent")
    assert agent.procs() == [init.pid]
    assert read_file(sandbox.paths[0] / "cgroup.procs").strip() == ""
    run = sandbox.leaf("run-1", oom_group=True)
    children.in_leaf(run, FORK_CHURN)
    assert wait_until(lambda: len(run.procs()) >= 5, 20)
    run.kill()
    assert run.procs() == []
    assert agent.procs() == [init.pid]


def test_root_limits_without_controllers_are_skipped_and_memory_is_unknown(
    v2_driver: V2Driver,
) -> None:
    # A hierarchy without the memory and cpu controllers cannot hold the
    # host-wide limits: nothing is written (nothing fails), and admission
    # hears that the memory in use is unknown, so it counts reserves alone.
    v2_driver.limit_root(RootLimits(memory_bytes=64 * 2**20, cpus=1))
    assert not (v2_driver.root / "memory.max").exists()
    assert v2_driver.root_memory_in_use() is None


def test_v2_a_users_sandboxes_sit_in_their_cgroup(v2_driver: V2Driver, children: Children) -> None:
    first = v2_driver.create_sandbox("first", SMALL, "user-ab12")
    second = v2_driver.create_sandbox("second", SMALL, "user-ab12")
    assert first.paths == (v2_driver.root / "user-ab12" / "first",)
    assert v2_driver.list_sandboxes() == ["first", "second"]
    holder = children.in_leaf(second.leaf("run-1"), "print('up', flush=True)\n" + FORK_CHURN)
    assert read_line(holder) == "up"
    second.remove()
    assert holder.wait(timeout=10) != 0
    assert v2_driver.groups() == ["user-ab12"]
    first.remove()
    assert v2_driver.groups() == []
