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

A volume is mounted when something needs it (`ensure_mounted`: every file
operation and every sandbox start goes through it) and unmounted after
idling (`unmount_idle`, called periodically by `sandpit.workspaces.reaper`),
so a host holds thousands of workspaces with only the active ones using a
loop device and a journal thread. A volume in use is never unmounted: the
caller names the workspaces with a live sandbox, and the unmount is not
lazy, so one still held open (a file operation under way) fails with EBUSY
and is simply tried again later.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
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
LOSETUP = "/usr/sbin/losetup"
# How long a re-format waits for the kernel to let go of the measuring mount's
# loop device (it is released asynchronously after the unmount).
LOOP_RELEASE_S = 10.0

# The image size that gave the quota, per (quota, inodes): found by the first
# workspace's measuring mount, so later ones are formatted and mounted once.
_sizes: dict[tuple[int, int], int] = {}
# One mount at a time per directory: two first requests after a restart must
# not stack two mounts on one workspace.
_mount_locks: dict[Path, threading.Lock] = {}
_mount_locks_guard = threading.Lock()
# When each directory's volume was last needed (`time.monotonic()`).
_last_used: dict[Path, float] = {}


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


def umount_argv(directory: Path, *, lazy: bool = True) -> list[str]:
    # Lazy by default: a process (a terminal) may still hold it; it goes when
    # they do. A volume being created is held by nobody yet.
    return [UMOUNT, "--lazy", str(directory)] if lazy else [UMOUNT, str(directory)]


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
        """Make the image and mount it on `directory` (both must not exist yet).

        The first volume of a quota is measured: formatted, mounted, its free
        space read, and re-formatted at the corrected size until it holds the
        quota. The size found is remembered, so the next ones are formatted
        and mounted once. A re-format waits until the measuring mount's loop
        device has let go of the image: a mount that found the old device
        still attached would reuse it, with the old filesystem's cached
        blocks ("probably corrupted filesystem" under load).
        """
        image = self.image_of(directory)
        directory.mkdir(mode=0o700)
        fd = os.open(image, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        os.close(fd)
        key = (self.quota_bytes, self.inodes)
        size: int | None = _sizes.get(key, image_size(self.quota_bytes))
        for _ in range(3):  # converges in one correction in practice
            assert size is not None
            os.truncate(image, 0)
            os.truncate(image, size)
            _run(mkfs_argv(image, self.inodes), "format the workspace volume")
            self.ensure_mounted(directory)
            found = os.statvfs(directory)
            corrected = corrected_size(size, found.f_bavail * found.f_frsize, self.quota_bytes)
            if corrected is None:
                _sizes[key] = size
                break
            size = corrected
            _run(umount_argv(directory, lazy=False), "unmount the workspace volume")
            _wait_released(image)
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
        with _mount_lock(directory), image_lock(image) as present:
            _last_used[directory] = time.monotonic()
            if os.path.ismount(directory) or not present:
                return
            _run(mount_argv(image, directory), "mount the workspace volume")

    def unmount_idle(self, idle_s: float, in_use: set[str]) -> list[Path]:
        """Unmount every volume not needed for `idle_s` seconds whose workspace id is
        not in `in_use` (those with a live sandbox); return the directories unmounted.

        A volume still held (EBUSY) stays mounted until a later call.
        """
        if not self.workspaces_dir.is_dir():
            return []
        now = time.monotonic()
        unmounted = []
        for entry in self.workspaces_dir.iterdir():
            if entry.name in in_use or not os.path.ismount(entry):
                continue
            with _mount_lock(entry):
                # Mounted before this server started (or by another): count from now.
                last = _last_used.setdefault(entry, now)
                if now - last < idle_s or not os.path.ismount(entry):
                    continue
                result = subprocess.run(  # noqa: S603 - a fixed argv, no shell
                    umount_argv(entry, lazy=False),
                    capture_output=True,
                    text=True,
                    check=False,
                    env={},
                )
                if result.returncode == 0:
                    _last_used.pop(entry, None)
                    unmounted.append(entry)
                else:
                    log.debug("volume %s is busy: %s", entry, result.stderr.strip())
        return unmounted

    def remove(self, directory: Path) -> None:
        """Unmount and delete the image; the caller removes the directory."""
        with _mount_lock(directory):
            if os.path.ismount(directory):
                _run(umount_argv(directory), "unmount the workspace volume")
            _last_used.pop(directory, None)
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


@contextlib.contextmanager
def image_lock(image: Path) -> Iterator[bool]:
    """Hold an exclusive `flock` on a workspace's image; yield whether it exists.

    Other processes (`sandpit backup` mounting an idle workspace privately)
    take the same lock, so an image is never mounted twice at once: two
    writable mounts of one ext4 image would corrupt it.
    """
    try:
        fd = os.open(image, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield stat.S_ISREG(os.fstat(fd).st_mode)
    finally:
        os.close(fd)  # releases the lock


def _mount_lock(directory: Path) -> threading.Lock:
    with _mount_locks_guard:
        return _mount_locks.setdefault(directory, threading.Lock())


def _wait_released(image: Path) -> None:
    """Wait (bounded) until no loop device is attached to `image`."""
    deadline = time.monotonic() + LOOP_RELEASE_S
    while time.monotonic() < deadline:
        attached = subprocess.run(  # noqa: S603 - a fixed argv, no shell
            [LOSETUP, "--associated", str(image)],
            capture_output=True,
            text=True,
            check=False,
            env={},
        )
        if attached.returncode == 0 and not attached.stdout.strip():
            return
        time.sleep(0.05)
    log.warning("the loop device of %s was not released within %s s", image, LOOP_RELEASE_S)


def _run(argv: list[str], action: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, env={})  # noqa: S603
    if result.returncode != 0:
        log.error("%s failed: %s: %s", action, argv, result.stderr.strip())
        raise VolumeError(f"Could not {action}; the error has been logged.")
