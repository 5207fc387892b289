"""Workspace volumes: the pure parts compared to literal values, and a real one."""

from __future__ import annotations

import os
from pathlib import Path

from sandpit.workspaces.volume import (
    MiB,
    Volumes,
    corrected_size,
    image_size,
    mkfs_argv,
    mount_argv,
    umount_argv,
)
from tests.servers import public_tmp


def test_argument_lists() -> None:
    assert mkfs_argv(Path("/d/w.img"), 3016) == [
        "/usr/sbin/mkfs.ext4", "-q", "-F", "-m", "0", "-N", "3016",
        "-E", "root_owner=0:0", "/d/w.img",
    ]  # fmt: skip
    assert mount_argv(Path("/d/w.img"), Path("/d/w")) == [
        "/usr/bin/mount", "-o", "loop,nosuid,nodev", "/d/w.img", "/d/w",
    ]  # fmt: skip
    assert umount_argv(Path("/d/w")) == ["/usr/bin/umount", "--lazy", "/d/w"]
    assert umount_argv(Path("/d/w"), lazy=False) == ["/usr/bin/umount", "/d/w"]


def test_sizes() -> None:
    assert image_size(100 * MiB) == 105 * MiB
    assert corrected_size(106 * MiB, 100 * MiB + 1000, 100 * MiB) is None
    assert corrected_size(106 * MiB, 98 * MiB, 100 * MiB) == 109 * MiB
    assert corrected_size(30 * MiB, 25 * MiB, 20 * MiB) == 26 * MiB


def test_real_volume_holds_the_quota(tmp_path: Path) -> None:
    base = public_tmp("sandpit-volume-")
    volumes = Volumes(base, quota_bytes=30 * MiB, quota_files=100)
    directory = base / "w"
    volumes.create(directory)
    try:
        assert os.path.ismount(directory)
        assert not (directory / "lost+found").exists()
        stats = os.statvfs(directory)
        available = stats.f_bavail * stats.f_frsize
        assert 30 * MiB <= available <= 31 * MiB
        assert (directory.parent / "w.img").stat().st_blocks * 512 < 8 * MiB  # sparse
    finally:
        volumes.remove(directory)
    assert not os.path.ismount(directory)
    assert not (base / "w.img").exists()
    directory.rmdir()
    base.rmdir()
