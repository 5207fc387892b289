"""Workspace volumes: each workspace's files on a filesystem of their own.

User code writes into its workspace directly, so the quota cannot be
enforced by the file API alone: a program could fill the host's disk. Each
workspace therefore lives on a small ext4 filesystem in a sparse image file
(`<id>.img` beside the directory) loop-mounted on its directory, sized to the
quota and with an inode count near the file quota. Filling it stops with
ENOSPC at the quota and never touches the host's disk beyond it. The image
file itself is outside every sandbox, so user code can change files on the
filesystem but never its raw metadata.

Mounted with nosuid and nodev. Images are sparse: an empty workspace costs
a few hundred KiB of real disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from pathlib import Path

from sandpit.errors import SandpitError

log = logging.getLogger(__name__)

MiB = 1024 * 1024
# ext4's metadata and journal take a share of the image that depends on its
# size; the first guess is corrected after formatting (see `Volumes.create`).
OVERHEAD_FRACTION = 0.03
OVERHEAD_BYTES = 2 * MiB
MKFS = "/usr/sbin/mkfs.ext4"
MOUNT = "/usr/bin/mount"
UMOUNT = "/usr/bin/umount"


class VolumeError(SandpitError):
    """A workspace volume could not be created or mounted (a platform failure)."""

    status_code = 500


def image_size(quota_bytes: int) -> int:
    """First guess at the bytes of a sparse image holding `quota_bytes` of files."""
    size = int(quota_bytes * (1 + OVERHEAD_FRACTION)) + OVERHEAD_BYTES
    return (size + MiB - 1) // MiB * MiB


def corrected_size(size: int, available: int, quota_bytes: int) -> int | None:
    """The image size that gives `quota_bytes` free, or None if `size` is close enough.

    Close enough: within 1 MiB above the quota (never below it).
    """
    if quota_bytes <= available <= quota_bytes + MiB:
        return None
    return (size + quota_bytes - available + MiB // 2 + MiB - 1) // MiB * MiB


def mkfs_argv(image: Path, inodes: int) -> list[str]:
    """mkfs for a workspace image. Pure; tested literally."""
    return [
        MKFS, "-q", "-F",
        "-m", "0",  # no blocks reserved for root: the quota is the user's
        "-N", str(inodes),
        "-E", "root_owner=0:0",
        str(image),
    ]  # fmt: skip


def mount_argv(image: Path, directory: Path) -> list[str]:
    return [MOUNT, "-o", "loop,nosuid,nodev", str(image), str(directory)]


def umount_argv(directory: Path) -> list[str]:
    # Lazy: a process (a terminal) may still hold it; it goes when they do.
    return [UMOUNT, "--lazy", str(directory)]


class Volumes:
    """Creates, mounts and removes the volumes under `workspaces_dir`."""

    def __init__(self, workspaces_dir: Path, quota_bytes: int, quota_files: int) -> None:
        self.workspaces_dir = workspaces_dir
        self.quota_bytes = quota_bytes
        # Folders use inodes too; leave room for a folder per two files.
        self.inodes = max(64, quota_files * 3 // 2 + 16)

    def image_of(self, directory: Path) -> Path:
        return directory.with_name(directory.name + ".img")

    def create(self, directory: Path) -> None:
        """Make the image and mount it on `directory` (both must not exist yet)."""
        image = self.image_of(directory)
        directory.mkdir(mode=0o700)
        fd = os.open(image, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        size: int | None = image_size(self.quota_bytes)
        for _ in range(3):  # converges in one correction in practice
            assert size is not None
            os.truncate(image, 0)
            os.truncate(image, size)
            _run(mkfs_argv(image, self.inodes), "format the workspace volume")
            self.ensure_mounted(directory)
            found = os.statvfs(directory)
            size = corrected_size(size, found.f_bavail * found.f_frsize, self.quota_bytes)
            if size is None:
                break
            _run(umount_argv(directory), "unmount the workspace volume")
        # ext4's lost+found would show in the user's file tree.
        with contextlib.suppress(OSError):
            os.rmdir(directory / "lost+found")
        os.chmod(directory, 0o700)

    def ensure_mounted(self, directory: Path) -> None:
        """Mount the workspace's image on its directory unless it already is.

        A workspace without an image (made before volumes existed, or with
        volumes disabled) is left as a plain directory.
        """
        image = self.image_of(directory)
        if os.path.ismount(directory) or not image.is_file():
            return
        _run(mount_argv(image, directory), "mount the workspace volume")

    def remove(self, directory: Path) -> None:
        """Unmount and delete the image; the caller removes the directory."""
        if os.path.ismount(directory):
            _run(umount_argv(directory), "unmount the workspace volume")
        with contextlib.suppress(FileNotFoundError):
            self.image_of(directory).unlink()

    def unmount_all(self) -> None:
        """Unmount every mounted workspace (server shutdown)."""
        if not self.workspaces_dir.is_dir():
            return
        for entry in self.workspaces_dir.iterdir():
            if entry.is_dir() and os.path.ismount(entry):
                try:
                    _run(umount_argv(entry), "unmount the workspace volume")
                except VolumeError:
                    log.exception("could not unmount %s", entry)


def _run(argv: list[str], action: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env={})  # noqa: S603
    if result.returncode != 0:
        log.error("%s failed: %s: %s", action, argv, result.stderr.strip())
        raise VolumeError(f"Could not {action}; the error has been logged.")
