"""File-system steps on an image tree, on small trees made by the tests."""

# ruff: noqa: S103 - the tests make permissive modes on purpose, to see them removed

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandpit.runtime.tree import (
    TreeError,
    copy_overlay,
    disk_usage,
    lock_down,
    lockdown_violations,
    make_mount_points,
    mounts_under,
    parse_mountinfo,
    remove_paths,
    remove_tree,
)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changes ownership to root")

MOUNTINFO = (
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "40 22 0:5 / /data/images/x/rootfs/proc rw - proc proc rw\n"
    "41 22 0:6 / /data/images/x/root\\040fs rw - tmpfs tmpfs rw\n"
    "42 22 0:7 / /data/images/xy rw - tmpfs tmpfs rw\n"
)


def test_parse_mountinfo_unescapes_mount_points() -> None:
    assert parse_mountinfo(MOUNTINFO) == [
        "/",
        "/data/images/x/rootfs/proc",
        "/data/images/x/root fs",
        "/data/images/xy",
    ]


def test_mounts_under_matches_whole_path_components() -> None:
    found = mounts_under(Path("/data/images/x"), MOUNTINFO)
    assert found == ["/data/images/x/rootfs/proc", "/data/images/x/root fs"]
    assert mounts_under(Path("/data/images/none"), MOUNTINFO) == []


def test_remove_tree_refuses_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(TreeError, match="not a directory"):
        remove_tree(tmp_path / "link")
    assert target.is_dir()
    remove_tree(tmp_path / "missing")  # nothing to do


def make_tree(root: Path) -> None:
    (root / "etc").mkdir(parents=True)
    (root / "etc/resolv.conf").write_text("nameserver 10.0.0.1\n")
    (root / "dev").mkdir()
    (root / "dev/null").write_text("")
    (root / "dev/fd").symlink_to("/proc/self/fd")
    site = root / "site/numpy"
    (site / "tests").mkdir(parents=True)
    (site / "tests/test_a.py").write_text("")
    (site / "linalg/tests").mkdir(parents=True)
    (site / "linalg/__init__.py").write_text("")


def test_remove_paths_removes_matches_and_links_but_not_their_targets(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_tree(root)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("host file")
    (root / "host").symlink_to(outside)
    removed = remove_paths(root, ("dev/*", "etc/resolv.conf", "site/numpy/**/tests", "host"))
    assert sorted(removed) == [
        "dev/fd",
        "dev/null",
        "etc/resolv.conf",
        "host",
        "site/numpy/linalg/tests",
        "site/numpy/tests",
    ]
    assert (outside / "keep").read_text() == "host file"
    assert (root / "site/numpy/linalg/__init__.py").exists()
    assert list((root / "dev").iterdir()) == []


def test_remove_paths_does_not_follow_a_symlink_out_of_the_tree(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("host file")
    (root / "etc").symlink_to(outside)
    with pytest.raises(TreeError, match="outside"):
        remove_paths(root, ("etc/victim",))
    assert (outside / "victim").exists()


def test_copy_overlay_replaces_files_and_links_and_sets_modes(tmp_path: Path) -> None:
    overlay, root = tmp_path / "overlay", tmp_path / "root"
    (overlay / "etc").mkdir(parents=True)
    (overlay / "etc/hosts").write_text("127.0.0.1\tlocalhost\n")
    (overlay / "etc/hostname").write_text("sandpit\n")
    (overlay / "usr/local/bin").mkdir(parents=True)
    (overlay / "usr/local/bin/tool").write_text("#!/bin/sh\n")
    os.chmod(overlay / "usr/local/bin/tool", 0o700)
    (root / "etc").mkdir(parents=True)
    (root / "etc/hosts").write_text("host's hosts\n")
    (root / "etc/hostname").symlink_to("/etc/hostname")
    written = copy_overlay(overlay, root)
    assert written == ["etc/hostname", "etc/hosts", "usr/local/bin/tool"]
    assert (root / "etc/hosts").read_text() == "127.0.0.1\tlocalhost\n"
    assert not (root / "etc/hostname").is_symlink()
    assert (root / "etc/hostname").read_text() == "sandpit\n"
    assert stat.S_IMODE((root / "etc/hosts").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "usr/local/bin/tool").stat().st_mode) == 0o755


def test_make_mount_points(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir(mode=0o1777)
    os.chmod(tmp_path / "tmp", 0o1777)
    make_mount_points(tmp_path, ("app", "tmp"))
    for name in ("app", "tmp"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o755
    (tmp_path / "app/file").write_text("")
    with pytest.raises(TreeError, match="not empty"):
        make_mount_points(tmp_path, ("app",))


@needs_root
def test_lock_down_leaves_only_root_owned_owner_writable_entries(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/su").write_text("")
    os.chmod(root / "usr/bin/su", 0o4755)
    (root / "var/mail").mkdir(parents=True)
    os.chmod(root / "var/mail", 0o2775)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    (root / "file").write_text("")
    os.chown(root / "file", 1000, 1000)
    os.chmod(root / "file", 0o666)
    (root / "link").symlink_to("file")
    os.lchown(root / "link", 1000, 1000)
    assert sorted(lockdown_violations(root)) == ["file", "link", "tmp", "usr/bin/su", "var/mail"]
    lock_down(root)
    assert lockdown_violations(root) == []
    assert stat.S_IMODE((root / "usr/bin/su").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "var/mail").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o755
    assert stat.S_IMODE((root / "file").stat().st_mode) == 0o644
    assert os.lstat(root / "link").st_uid == 0


@needs_root
def test_lock_down_refuses_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    assert lockdown_violations(tmp_path) == ["fifo"]
    with pytest.raises(TreeError, match="special file"):
        lock_down(tmp_path)


def test_disk_usage_counts_hard_links_once(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100_000)
    single = disk_usage(tmp_path)
    os.link(tmp_path / "a", tmp_path / "b")
    assert disk_usage(tmp_path) == single
    assert single >= 100_000
