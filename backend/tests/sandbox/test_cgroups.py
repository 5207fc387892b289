"""Sandbox cgroups for real, as root, on whatever `detect()` finds.

That is v1 on the development machine and v2 on most production hosts,
under a random root ``sandpit-test-<hex>``, never a production "sandpit"
tree, and removed afterwards. Limits land in the interface files, kills
empty leaves that keep forking, OOM kills are counted, and a restarted
server reaps stale sandboxes. Every child process is killed and waited for
at teardown. The values written and the choice between v1 and v2 are in
test_cgroups_pure.py; the v2 paths on a hierarchy without controllers in
test_cgroups_v2.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandpit.sandbox.cgroups import (
    CgroupDriver,
    CgroupUnavailable,
    RootLimits,
    SandboxCgroup,
    detect,
    user_group,
)
from sandpit.sandbox.cgroups.fs import parse_keyed, parse_limit, read_file, wait_until
from sandpit.sandbox.cgroups.v1 import V1Driver
from sandpit.sandbox.limits import Limits, MiB
from tests.sandbox.live_cgroups import (
    FORK_CHURN,
    SMALL,
    Children,
    in_cgroup_itself,
    random_root,
    read_line,
)


@pytest.fixture
def driver() -> Iterator[CgroupDriver]:
    """The host's driver under a random root, removed (with every cgroup in it) afterwards."""
    if os.geteuid() != 0:
        pytest.skip("creating cgroups needs root, as the server has")
    try:
        found = detect(root_name=random_root())
    except CgroupUnavailable as error:
        pytest.skip(f"cgroups are unusable here: {error.detail}")
    yield found
    found.remove_root()
    assert not any(path.exists() for path in found.root_dirs)


def files(sandbox: SandboxCgroup, *names: str) -> dict[str, str]:
    """The contents of interface files of the sandbox, looked up in every hierarchy."""
    found = {}
    for name in names:
        for path in sandbox.paths:
            if (path / name).exists():
                found[name] = read_file(path / name).strip()
    return found


def test_limits_land_in_sysfs(driver: CgroupDriver) -> None:
    sandbox = driver.create_sandbox("limits", SMALL)
    if driver.version == 1:
        expected = {
            "memory.limit_in_bytes": "67108864",
            "memory.swappiness": "0",
            "cpu.cfs_period_us": "100000",
            "cpu.cfs_quota_us": "50000",
            "pids.max": "10",
        }
        swap_file = "memory.memsw.limit_in_bytes"
    else:
        expected = {"memory.max": "67108864", "cpu.max": "50000 100000", "pids.max": "10"}
        swap_file = "memory.swap.max"
    assert files(sandbox, *expected) == expected
    swap = files(sandbox, swap_file)
    assert swap in ({}, {swap_file: "67108864" if driver.version == 1 else "0"})


def test_a_moved_process_shows_in_its_leaf(driver: CgroupDriver, children: Children) -> None:
    sandbox = driver.create_sandbox("procs", SMALL)
    agent, run = sandbox.leaf("agent"), sandbox.leaf("run-1")
    sleeper = children.in_leaf(run, "import time; time.sleep(100)")
    assert run.procs() == [sleeper.pid]
    assert agent.procs() == []
    assert sandbox.procs() == [sleeper.pid]
    assert [leaf.name for leaf in sandbox.leaves()] == ["agent", "run-1"]


def test_kill_empties_a_leaf_that_keeps_forking(driver: CgroupDriver, children: Children) -> None:
    sandbox = driver.create_sandbox("forks", SMALL)
    run, agent = sandbox.leaf("run-1"), sandbox.leaf("agent")
    sleeper = children.in_leaf(agent, "import time; time.sleep(100)")
    children.in_leaf(run, FORK_CHURN)
    assert wait_until(lambda: len(run.procs()) >= 5, 20)
    run.kill()
    assert run.procs() == []
    assert agent.procs() == [sleeper.pid]  # the other leaf is untouched


def test_pids_max_holds_against_a_fork_bomb(driver: CgroupDriver, children: Children) -> None:
    sandbox = driver.create_sandbox("pids", SMALL)
    run = sandbox.leaf("run-1")
    bomb = children.in_leaf(
        run,
        "import os, time\n"
        "forks = 0\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        print(forks, 'refused', flush=True)\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(100)\n"
        "    forks += 1\n"
        "time.sleep(100)\n",
    )
    assert read_line(bomb) == "9 refused"  # itself and 9 children: pids.max = 10
    assert len(run.procs()) == 10
    assert sandbox.stats().pids == 10
    sandbox.kill_all()
    assert sandbox.procs() == []


def test_an_oom_kill_is_counted(driver: CgroupDriver, children: Children) -> None:
    if "memory" not in driver.controllers:
        pytest.skip("no memory controller")
    sandbox = driver.create_sandbox("oom", SMALL)
    agent = sandbox.leaf("agent")
    run = sandbox.leaf("run-1", oom_group=True)
    term = sandbox.leaf("term-1")
    sleeper = children.in_leaf(agent, "import time; time.sleep(100)")
    hog = children.in_leaf(run, "data = b'x' * (200 * 1024 * 1024)\nprint('survived')")
    assert hog.wait(timeout=60) == -9
    assert run.oom_killed() == 1
    assert (agent.oom_killed(), term.oom_killed()) == (0, 0)
    assert sleeper.poll() is None  # the limit ended the hog, not its neighbours
    assert sandbox.stats().oom_kills == 1
    if driver.version == 1:
        # v1 counts the kill in the victim's cgroup only, not where the limit is.
        oom_control = files(sandbox, "memory.oom_control")["memory.oom_control"]
        assert parse_keyed(oom_control)["oom_kill"] == 0
    run.remove()
    # The sandbox's total outlives the leaf (v2: hierarchical events; v1: a tally).
    assert sandbox.stats().oom_kills == 1


def test_stats_are_plausible(driver: CgroupDriver, children: Children) -> None:
    sandbox = driver.create_sandbox("stats", SMALL)
    run = sandbox.leaf("run-1")
    burner = children.in_leaf(
        run,
        # Memory and CPU used before the move stay charged to the old cgroup:
        # count only what comes after.
        "import time\n"
        "data = b'x' * (16 * 1024 * 1024)\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < 0.2:\n"
        "    pass\n"
        "print('done', flush=True)\n"
        "time.sleep(100)\n",
    )
    assert read_line(burner) == "done"
    stats = sandbox.stats()
    assert stats.pids == 1
    assert stats.pids_limit == 10
    assert stats.memory_limit_bytes == 64 * MiB
    assert 16 * MiB < stats.memory_bytes < 64 * MiB
    assert stats.cpu_usage_ns >= 150_000_000
    assert stats.oom_kills == 0


def test_remove_kills_and_leaves_no_directory(driver: CgroupDriver, children: Children) -> None:
    sandbox = driver.create_sandbox("gone", SMALL)
    run = sandbox.leaf("run-1")
    process = children.in_leaf(run, "import time; time.sleep(100)")
    sandbox.remove()
    assert process.wait(timeout=10) == -9
    assert not any(path.exists() for path in sandbox.paths)
    assert driver.list_sandboxes() == []
    sandbox.remove()  # already gone: nothing happens
    run.remove()
    run.kill()


def test_leaf_remove(driver: CgroupDriver, children: Children) -> None:
    sandbox = driver.create_sandbox("leafgone", SMALL)
    run = sandbox.leaf("run-1")
    process = children.in_leaf(run, "import time; time.sleep(100)")
    run.remove()
    assert process.wait(timeout=10) == -9
    assert not any(path.exists() for path in run.paths)
    assert sandbox.leaves() == []


def test_create_again_replaces_the_old_cgroup(driver: CgroupDriver, children: Children) -> None:
    first = driver.create_sandbox("again", SMALL)
    old = children.in_leaf(first.leaf("run-1"), "import time; time.sleep(100)")
    second = driver.create_sandbox("again", Limits(pids=20))
    assert old.wait(timeout=10) == -9
    assert second.leaves() == []
    assert second.stats().pids_limit == 20


def test_reap_after_a_restart_kills_and_removes_stale_sandboxes(
    driver: CgroupDriver, children: Children
) -> None:
    kept = children.in_leaf(driver.create_sandbox("kept", SMALL).leaf("agent"), FORK_CHURN)
    stale_sandbox = driver.create_sandbox("stale", SMALL)
    stale = children.in_leaf(stale_sandbox.leaf("agent"), "import time; time.sleep(100)")
    children.in_leaf(stale_sandbox.leaf("run-1"), FORK_CHURN)
    assert driver.list_sandboxes() == ["kept", "stale"]
    # A new server process knows nothing but the root's name.
    restarted = detect(root_name=driver.root_name)
    assert restarted.reap(keep={"kept"}) == ["stale"]
    assert stale.wait(timeout=10) == -9
    assert restarted.list_sandboxes() == ["kept"]
    assert not any(path.exists() for path in stale_sandbox.paths)
    assert kept.poll() is None or kept.returncode == 0  # churn's first process may leave
    assert restarted.reap() == ["kept"]
    assert restarted.list_sandboxes() == []


def test_v1_kill_without_a_freezer_still_empties_a_forking_leaf(
    driver: CgroupDriver, children: Children
) -> None:
    if not isinstance(driver, V1Driver):
        pytest.skip("the host's cgroups are not v1")
    # What accept_weaker gives on a v1 host without the freezer: SIGKILL rounds.
    mounts = {name: mount for name, mount in driver.mounts.items() if name != "freezer"}
    weaker = V1Driver(mounts, driver.root_name)
    sandbox = weaker.create_sandbox("nofreezer", SMALL)
    run = sandbox.leaf("run-1")
    children.in_leaf(run, FORK_CHURN)
    assert wait_until(lambda: len(run.procs()) >= 5, 20)
    run.kill()
    assert run.procs() == []
    sandbox.remove()


def test_reap_on_a_clean_start_does_nothing(driver: CgroupDriver) -> None:
    assert driver.reap() == []


def test_gather_moves_an_engines_processes_into_a_leaf(
    driver: CgroupDriver, children: Children
) -> None:
    sandbox = driver.create_sandbox("engine", SMALL)
    init = in_cgroup_itself(sandbox, children)
    agent = sandbox.gather("agent")
    assert agent.procs() == [init.pid]
    # Nothing is left in the cgroup itself, and new leaves work beside the agent's.
    for path in sandbox.paths:
        assert read_file(path / "cgroup.procs").strip() == ""
    run = sandbox.leaf("run-1")
    sleeper = children.in_leaf(run, "import time; time.sleep(100)")
    assert sandbox.procs() == sorted([init.pid, sleeper.pid])
    run.kill()
    assert agent.procs() == [init.pid]


# --- the root of every sandbox: host-wide limits and the memory all of them hold ---


def test_root_limits_land_and_lift(driver: CgroupDriver) -> None:
    driver.limit_root(RootLimits(memory_bytes=300 * MiB, cpus=1.5))
    if driver.version == 1:
        assert root_files(driver, "memory.limit_in_bytes", "cpu.cfs_quota_us") == {
            "memory.limit_in_bytes": str(300 * MiB),
            "cpu.cfs_quota_us": "150000",
        }
    else:
        assert root_files(driver, "memory.max", "cpu.max") == {
            "memory.max": str(300 * MiB),
            "cpu.max": "150000 100000",
        }
    driver.limit_root(RootLimits(memory_bytes=None, cpus=None))
    if driver.version == 1:
        found = root_files(driver, "memory.limit_in_bytes", "cpu.cfs_quota_us")
        assert parse_limit(found["memory.limit_in_bytes"]) is None
        assert found["cpu.cfs_quota_us"] == "-1"
    else:
        assert root_files(driver, "memory.max", "cpu.max") == {
            "memory.max": "max",
            "cpu.max": "max 100000",
        }


def test_memory_in_use_counts_what_sandboxes_allocate(
    driver: CgroupDriver, children: Children
) -> None:
    before = driver.root_memory_in_use()
    assert before is not None
    sandbox = driver.create_sandbox("holder", Limits(memory_bytes=256 * MiB, pids=10))
    holder = children.in_leaf(
        sandbox.leaf("run-1"),
        "b = bytearray(48 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1\n"
        "print('held', flush=True)\nimport time; time.sleep(100)",
    )
    assert read_line(holder) == "held"
    in_use = driver.root_memory_in_use()
    assert in_use is not None
    assert in_use - before >= 48 * MiB
    holder.kill()
    holder.wait()
    assert wait_until(lambda: (driver.root_memory_in_use() or 0) < before + 16 * MiB, 10)


def test_a_users_sandboxes_share_one_cgroup(driver: CgroupDriver) -> None:
    group = user_group("ab12")
    assert group == "user-ab12"
    first = driver.create_sandbox("first", SMALL, group)
    second = driver.create_sandbox("second", SMALL, group)
    driver.create_sandbox("alone", SMALL)
    assert all(path.parent.name == group for path in (*first.paths, *second.paths))
    assert driver.list_sandboxes() == ["alone", "first", "second"]
    assert driver.groups() == [group]
    found = driver.open_sandbox("second")
    assert found is not None
    assert found.paths == second.paths
    # The default weight, and one sandbox's CPU limit (SMALL: half a CPU) for the two.
    if driver.version == 1:
        expected = {"cpu.shares": "1024", "cpu.cfs_quota_us": "50000"}
    else:
        expected = {"cpu.weight": "100", "cpu.max": "50000 100000"}
    assert group_files(driver, group, *expected) == expected
    first.remove()
    assert driver.groups() == [group]
    second.remove()
    assert driver.groups() == []
    driver.create_sandbox("third", SMALL, group)
    assert driver.reap() == ["alone", "third"]
    assert driver.groups() == []


def group_files(driver: CgroupDriver, group: str, *names: str) -> dict[str, str]:
    found = {}
    for name in names:
        for path in driver.root_dirs:
            if (path / group / name).exists():
                found[name] = read_file(path / group / name).strip()
    return found


def root_files(driver: CgroupDriver, *names: str) -> dict[str, str]:
    found = {}
    for name in names:
        for path in driver.root_dirs:
            if (path / name).exists():
                found[name] = read_file(path / name).strip()
    return found
