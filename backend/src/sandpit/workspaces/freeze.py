"""Freezing a workspace volume while a backup reads it, and thawing one a dead backup left.

`sandpit backup` freezes (FIFREEZE) each mounted workspace volume while it
copies it, so the copy is the filesystem at one instant; writers block
until the thaw. A backup that is killed outright (SIGKILL, the OOM killer)
cannot thaw, and the volume stays frozen: every save and run in that
workspace hangs. The kernel does not say cheaply whether a filesystem is
frozen, but a thaw (FITHAW) of one that is not fails with EINVAL and does
nothing else, so "thaw every mounted volume" is both the test and the cure.

It is only safe when no backup is running (thawing a live backup's volume
would let writers change it mid-copy). A running backup holds `freeze_lock`,
an exclusive `flock` on the workspaces directory, for its whole run; the
kernel releases it when the process dies however it dies. So whoever gets
the lock knows any frozen volume is a leftover: `sandpit backup` thaws them
when it starts, and the server's volume reaper on every round (skipping the
round while a backup holds the lock).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

FIFREEZE = 0xC0045877
FITHAW = 0xC0045878


@contextlib.contextmanager
def freeze_lock(workspaces_dir: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the backups' lock on `workspaces_dir`; yield whether it was taken.

    With `wait`, block until it is free (a second backup waits for the
    first) and always yield True; without, yield False at once if it is held.
    Without a workspaces directory there is no volume to guard: True.
    """
    if not workspaces_dir.is_dir():
        yield True
        return
    fd = os.open(workspaces_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True  # closing the descriptor releases the lock
    finally:
        os.close(fd)


@contextlib.contextmanager
def frozen(directory: Path) -> Iterator[int]:
    """Freeze the filesystem mounted on `directory` while the body reads it; yield its root.

    The freeze and the thaw go through one descriptor of the mount's root,
    so the thaw reaches the same filesystem even if the server unmounts the
    directory meanwhile (a workspace deleted during the backup). Hold
    `freeze_lock` around it.
    """
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, FIFREEZE, 0)
        try:
            yield fd
        finally:
            fcntl.ioctl(fd, FITHAW, 0)
    finally:
        os.close(fd)


def thaw_left_frozen(workspaces_dir: Path) -> list[Path]:
    """Thaw every mounted workspace volume a killed backup left frozen; return those thawed.

    Call it holding `freeze_lock` (else a running backup's volume is thawed
    under it). One open and one ioctl per mounted volume; neither blocks on
    a frozen filesystem.
    """
    thawed: list[Path] = []
    if not workspaces_dir.is_dir():
        return thawed
    for entry in sorted(workspaces_dir.iterdir()):
        if entry.is_symlink() or not os.path.ismount(entry):
            continue
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # deleted meanwhile
        try:
            fcntl.ioctl(fd, FITHAW, 0)
        except OSError as error:
            if error.errno != errno.EINVAL:  # EINVAL: it was not frozen
                log.warning("could not thaw %s: %s", entry, error)
            continue
        finally:
            os.close(fd)
        log.warning("thawed %s, left frozen by a backup that was killed", entry)
        thawed.append(entry)
    return thawed
