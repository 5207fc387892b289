"""Sandbox cgroups: the values written (pure), and the real thing as root.

Pure tests compare the files and values written for given limits, the name
checks, the mountinfo parsing and the choice between v1 and v2 to literal
expectations. Real tests use whatever `detect()` finds (v1 on the development
machine, v2 on most production hosts) under a random root
``sandpit-test-<hex>``, never a production "sandpit" tree, and remove it
afterwards. The v2 kill and process paths are also run on a cgroup2
hierarchy without controllers (a hybrid host's /sys/fs/cgroup/unified, or one
mounted for the test), which has cgroup.procs, cgroup.kill, cgroup.freeze and
cgroup.events. Every child process is killed and waited for at teardown.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandpit.sandbox.cgroups import (
    CgroupDriver,
    CgroupError,
    CgroupUnavailable,
    Leaf,
    SandboxCgroup,
    check_limits,
    cpu_quota_us,
    detect,
    make_dir,
    missing_sentence,
    parse_keyed,
    parse_limit,
    parse_mountinfo,
    plan_hierarchy,
    read_file,
    split_root_name,
    validate_leaf_name,
    validate_sandbox_id,
    wait_until,
    write_file,
)
from sandpit.sandbox.cgroups_v1 import V1Driver, v1_limit_files
from sandpit.sandbox.cgroups_v2 import V2Driver, v2_limit_files
from sandpit.sandbox.limits import Limits, MiB

# --- pure: values written -----------------------------------------------------


def test_v2_files_for_the_default_limits() -> None:
    assert v2_limit_files(Limits(), swap=True) == [
        ("memory.max", "536870912"),
        ("memory.swap.max", "0"),
        ("cpu.max", "100000 100000"),
        ("pids.max", "50"),
    ]


def test_v2_files_with_swap_half_a_cpu_and_no_swap_accounting() -> None:
    limits = Limits(memory_bytes=256 * MiB, memory_swap_bytes=384 * MiB, cpus=0.5, pids=10)
    assert v2_limit_files(limits, swap=True) == [
        ("memory.max", "268435456"),
        ("memory.swap.max", "134217728"),
        ("cpu.max", "50000 100000"),
        ("pids.max", "10"),
    ]
    assert v2_limit_files(limits, swap=False) == [
        ("memory.max", "268435456"),
        ("cpu.max", "50000 100000"),
        ("pids.max", "10"),
    ]


def test_v1_files_for_the_default_limits() -> None:
    assert v1_limit_files(Limits(), memsw=True) == [
        ("memory.limit_in_bytes", "536870912"),
        ("memory.memsw.limit_in_bytes", "536870912"),
        ("memory.swappiness", "0"),
        ("cpu.cfs_period_us", "100000"),
        ("cpu.cfs_quota_us", "100000"),
        ("pids.max", "50"),
    ]


def test_v1_files_with_swap_allowed_and_without_swap_accounting() -> None:
    limits = Limits(memory_bytes=64 * MiB, memory_swap_bytes=128 * MiB, cpus=0.5, pids=10)
    assert v1_limit_files(limits, memsw=False) == [
        ("memory.limit_in_bytes", "67108864"),
        ("cpu.cfs_period_us", "100000"),
        ("cpu.cfs_quota_us", "50000"),
        ("pids.max", "10"),
    ]


@pytest.mark.parametrize(
    ("cpus", "quota"), [(1.0, 100000), (0.5, 50000), (2.0, 200000), (1.5, 150000), (0.001, 1000)]
)
def test_cpu_quota(cpus: float, quota: int) -> None:
    assert cpu_quota_us(cpus) == quota


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (Limits(memory_bytes=0), "memory limit must be positive"),
        (Limits(memory_bytes=64 * MiB, memory_swap_bytes=32 * MiB), r"memory\+swap"),
        (Limits(cpus=0), "CPU limit"),
        (Limits(pids=0), "process limit"),
    ],
)
def test_impossible_limits_are_refused(limits: Limits, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_limits(limits)


@pytest.mark.parametrize("name", ["agent", "run-1", "term-0f3a", "-", "a" * 64])
def test_valid_leaf_names(name: str) -> None:
    assert validate_leaf_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Run-1", "run_1", "run.1", "..", "a/b", "run 1", "run-1\n", "é", "a" * 65]
)
def test_invalid_leaf_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid leaf name"):
        validate_leaf_name(name)


@pytest.mark.parametrize("sandbox_id", ["", "ab-1", "AB", "../x", "a.b", "x\n", "a" * 65])
def test_invalid_sandbox_ids(sandbox_id: str) -> None:
    with pytest.raises(ValueError, match="invalid sandbox id"):
        validate_sandbox_id(sandbox_id)


def test_root_names() -> None:
    assert split_root_name("sandpit") == ("sandpit",)
    assert split_root_name("sandpit.slice/boxes") == ("sandpit.slice", "boxes")
    for bad in ["", "/sandpit", "a//b", "..", "a/../b", "a/.", "sand pit"]:
        with pytest.raises(ValueError, match="invalid cgroup root"):
            split_root_name(bad)


def test_parsers() -> None:
    assert parse_limit("max\n") is None
    assert parse_limit("9223372036854771712\n") is None  # v1 "unlimited"
    assert parse_limit("-1") is None
    assert parse_limit("67108864\n") == 67108864
    events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 2\noom_group_kill 1\n"
    assert parse_keyed(events)["oom_kill"] == 2
    assert parse_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")["oom_kill"] == 3
    assert missing_sentence(["memory"]) == "the memory controller is not available"
    assert missing_sentence(["memory", "pids", "cpu"], "mounted") == (
        "the memory, pids and cpu controllers are not mounted"
    )


# --- pure: finding the hierarchy ----------------------------------------------

HYBRID = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""

UNIFIED = """\
25 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 \
rw,nsdelegate,memory_recursiveprot
"""


def test_parse_mountinfo_reads_fields_and_escapes() -> None:
    line = "50 31 0:40 /a\\040b /mnt/with\\040space ro,relatime shared:3 - cgroup2 none rw\n"
    (mount,) = parse_mountinfo(line)
    assert mount.mount_point == Path("/mnt/with space")
    assert mount.root == "/a b"
    assert mount.fstype == "cgroup2"
    assert mount.read_only
    assert {m.fstype for m in parse_mountinfo(HYBRID)} == {"tmpfs", "cgroup", "cgroup2"}


def test_a_hybrid_host_whose_controllers_are_on_v1_gets_v1() -> None:
    plan = plan_hierarchy(parse_mountinfo(HYBRID), frozenset({"hugetlb"}))
    assert plan.version == 1
    assert plan.v1_mounts == {
        "cpu": Path("/sys/fs/cgroup/cpu"),
        "cpuacct": Path("/sys/fs/cgroup/cpuacct"),
        "memory": Path("/sys/fs/cgroup/memory"),
        "freezer": Path("/sys/fs/cgroup/freezer"),
        "pids": Path("/sys/fs/cgroup/pids"),
    }
    assert plan.missing == ()


def test_a_unified_host_gets_v2() -> None:
    available = frozenset(["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"])
    plan = plan_hierarchy(parse_mountinfo(UNIFIED), available)
    assert (plan.version, plan.v2_mount) == (2, Path("/sys/fs/cgroup"))
    assert plan.controllers == {"memory", "pids", "cpu"}


def test_a_missing_controller_is_named() -> None:
    with pytest.raises(CgroupUnavailable) as raised:
        plan_hierarchy(parse_mountinfo(UNIFIED), frozenset({"cpu", "io", "pids"}))
    assert raised.value.detail == (
        "cgroups cannot enforce the sandbox limits: cgroup v2 at /sys/fs/cgroup: the memory"
        " controller is not available (its cgroup.controllers lists cpu io pids)."
    )
    assert raised.value.status_code == 503


def test_a_v1_host_without_freezer_and_a_bare_v2_are_both_named() -> None:
    mountinfo = "\n".join(line for line in HYBRID.splitlines() if "freezer" not in line)
    with pytest.raises(CgroupUnavailable) as raised:
        plan_hierarchy(parse_mountinfo(mountinfo), frozenset())
    assert raised.value.detail == (
        "cgroups cannot enforce the sandbox limits: cgroup v2 at /sys/fs/cgroup/unified:"
        " the memory, pids and cpu controllers are not available (its cgroup.controllers"
        " lists nothing); cgroup v1: the freezer controller is not mounted."
    )


def test_a_read_only_cgroup_filesystem_is_named() -> None:
    mountinfo = UNIFIED.replace("shared:9 - cgroup2 cgroup2 rw", "shared:9 - cgroup2 cgroup2 ro")
    with pytest.raises(CgroupUnavailable, match="the cgroup filesystem at /sys/fs/cgroup is read"):
        plan_hierarchy(parse_mountinfo(mountinfo), frozenset({"memory", "pids", "cpu"}))


def test_no_cgroup_filesystem_at_all() -> None:
    with pytest.raises(CgroupUnavailable, match="no cgroup filesystem is mounted"):
        plan_hierarchy(parse_mountinfo(HYBRID.splitlines()[0]), None)


def test_weaker_limits_when_accepted_say_what_is_missing() -> None:
    plan = plan_hierarchy(parse_mountinfo(UNIFIED), frozenset({"cpu"}), accept_weaker=True)
    assert (plan.version, plan.controllers) == (2, frozenset({"cpu"}))
    assert plan.missing == (
        "the memory controller is not available: no memory limit and no OOM accounting",
        "the pids controller is not available: no process limit",
    )


def test_detect_reports_what_its_mountinfo_lacks(tmp_path: Path) -> None:
    # A cgroup2 "mount" that is a plain directory listing no controllers.
    (tmp_path / "cgroup.controllers").write_text("io\n")
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(f"26 25 0:23 / {tmp_path} rw - cgroup2 cgroup2 rw\n")
    with pytest.raises(CgroupUnavailable, match="the memory, pids and cpu controllers are not"):
        detect(mountinfo=mountinfo)


def test_helpers_never_follow_symlinks(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "file").write_text("secret")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    (tmp_path / "filelink").symlink_to(tmp_path / "file")
    with pytest.raises(CgroupError, match="is not a cgroup directory"):
        make_dir(tmp_path / "link")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        read_file(tmp_path / "filelink")


# --- real cgroups ---------------------------------------------------------------


class Children:
    """Child processes that wait to be moved into a cgroup before running their code."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def held(self, code: str) -> subprocess.Popen[bytes]:
        """Start `python -c code` paused on stdin; `release` lets it run."""
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys\nsys.stdin.buffer.read(1)\n" + code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.started.append(process)
        return process

    def in_leaf(self, leaf: Leaf, code: str) -> subprocess.Popen[bytes]:
        """Start `code` in `leaf`: moved there before it runs a line of it."""
        process = self.held(code)
        leaf.add(process.pid)
        assert process.stdin is not None
        process.stdin.write(b"x")
        process.stdin.flush()
        return process

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def read_line(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().decode().strip()


def random_root(prefix: str = "sandpit-test") -> str:
    """A root name no production tree and no other test run uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture
def children() -> Iterator[Children]:
    spawned = Children()
    yield spawned
    spawned.cleanup()


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


SMALL = Limits(memory_bytes=64 * MiB, memory_swap_bytes=64 * MiB, cpus=0.5, pids=10)

FORK_CHURN = """
import os, random, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # no zombies: forks keep coming
while True:
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.001)
        continue
    if pid > 0 and random.random() < 0.5:
        os._exit(0)  # the parent leaves, its child forks on: pids keep changing
"""


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


# --- the v2 paths, on a cgroup2 hierarchy without controllers -----------------------


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


def _in_cgroup_itself(sandbox: SandboxCgroup, children: Children) -> subprocess.Popen[bytes]:
    """A sleeper placed in the sandbox cgroup itself, as an engine puts a container's init."""
    process = children.held("import time; time.sleep(100)")
    for path in sandbox.paths:
        write_file(path / "cgroup.procs", str(process.pid))
    return process


def test_gather_moves_an_engines_processes_into_a_leaf(
    driver: CgroupDriver, children: Children
) -> None:
    sandbox = driver.create_sandbox("engine", SMALL)
    init = _in_cgroup_itself(sandbox, children)
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


def test_v2_gather_passes_controllers_down_once_the_cgroup_is_empty(
    v2_driver: V2Driver, children: Children
) -> None:
    sandbox = v2_driver.create_sandbox("engine", SMALL)
    init = _in_cgroup_itself(sandbox, children)
    agent = sandbox.gather("agent")
    assert agent.procs() == [init.pid]
    assert read_file(sandbox.paths[0] / "cgroup.procs").strip() == ""
    run = sandbox.leaf("run-1", oom_group=True)
    children.in_leaf(run, FORK_CHURN)
    assert wait_until(lambda: len(run.procs()) >= 5, 20)
    run.kill()
    assert run.procs() == []
    assert agent.procs() == [init.pid]
