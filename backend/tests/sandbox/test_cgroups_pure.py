"""Sandbox cgroups, pure: the values written and the hierarchy found, without the host's.

The files and values written for given limits, the name checks, the
parsers, the mountinfo parsing and the choice between v1 and v2 are
compared to literal expectations. The few files read or made are under
tmp_path; the real cgroups are in test_cgroups.py and test_cgroups_v2.py.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sandpit.sandbox.cgroups import CgroupError, CgroupUnavailable, detect
from sandpit.sandbox.cgroups.base import (
    check_limits,
    cpu_quota_us,
    split_root_name,
    validate_leaf_name,
    validate_sandbox_id,
)
from sandpit.sandbox.cgroups.detect import missing_sentence, parse_mountinfo, plan_hierarchy
from sandpit.sandbox.cgroups.fs import make_dir, parse_keyed, parse_limit, read_file, try_read
from sandpit.sandbox.cgroups.v1 import v1_limit_files
from sandpit.sandbox.cgroups.v2 import v2_limit_files
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


def test_a_cgroup_removed_between_open_and_read_reads_as_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel answers ENODEV to a read of a removed cgroup's open file
    # (seen when orphans were reaped while their cgroups went away).
    procs = tmp_path / "cgroup.procs"
    procs.write_text("1\n")
    assert try_read(procs) == "1\n"

    def removed(_fd: int, _size: int) -> bytes:
        raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))

    monkeypatch.setattr(os, "read", removed)
    assert try_read(procs) is None
    assert try_read(tmp_path / "missing") is None
    with pytest.raises(OSError, match="No such device"):
        read_file(procs)
