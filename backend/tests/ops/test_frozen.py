"""A workspace volume left frozen by a `sandpit backup` killed with SIGKILL is thawed again.

The killed backup is played by a child process that freezes the volume
(FIFREEZE, as the backup does) and is then killed before it can thaw. The
real server, the real loop-mounted volume and the real command line do the
rest: the thaw under the backups' lock, the server's reaper, the next backup.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandpit.workspaces.freeze import freeze_lock, thaw_left_frozen
from tests.conftest import User
from tests.ops.test_backup import sandpit_cli
from tests.servers import SandpitServer

# Freeze the filesystem on argv[1], say so, and wait to be killed.
FREEZE_AND_WAIT = (
    "import fcntl, os, sys\n"
    "from sandpit.workspaces.freeze import FIFREEZE\n"
    "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
    "fcntl.ioctl(fd, FIFREEZE, 0)\n"
    "print('frozen', flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def server() -> Iterator[SandpitServer]:
    # A short idle time makes the reaper look every 2 s.
    server = SandpitServer(workspace_volume_idle_s="8")
    server.start()
    yield server
    # Should the test fail with a volume still frozen, the server could not stop.
    workspaces_dir = server.data_dir / "workspaces"
    with freeze_lock(workspaces_dir, wait=True):
        thaw_left_frozen(workspaces_dir)
    server.close()


def killed_while_frozen(directory: Path) -> None:
    """Freeze `directory`'s volume in a child, then SIGKILL the child (no thaw)."""
    with subprocess.Popen(
        [sys.executable, "-c", FREEZE_AND_WAIT, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "frozen\n"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def save(user: User, workspace: str, text: str) -> None:
    """A save that must complete within a minute (it blocks while the volume is frozen)."""
    answer = user.client.put(
        f"/api/workspaces/{workspace}/files/after.txt", content=text.encode(), timeout=60
    )
    assert answer.status_code in (200, 201), answer.text


def test_a_volume_left_frozen_by_a_killed_backup_is_thawed(server: SandpitServer) -> None:
    user = User(server)
    try:
        workspace = user.workspace()
        save(user, workspace, "mounted\n")
        workspaces_dir = server.data_dir / "workspaces"
        directory = workspaces_dir / workspace

        # 1. Under the backups' lock (the reaper stays out meanwhile), the
        #    thaw finds exactly the frozen volume, and nothing the second time.
        with freeze_lock(workspaces_dir, wait=False) as taken:
            assert taken
            killed_while_frozen(directory)
            assert thaw_left_frozen(workspaces_dir) == [directory]
            assert thaw_left_frozen(workspaces_dir) == []
        save(user, workspace, "after the first thaw\n")

        # 2. Left to itself, the server's reaper thaws it: a save that
        #    started while the volume was frozen completes.
        killed_while_frozen(directory)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(save, user, workspace, "thawed by the reaper\n").result(timeout=90)
        assert user.client.get(f"/api/workspaces/{workspace}/files/after.txt").content == (
            b"thawed by the reaper\n"
        )

        # 3. The next backup starts whatever the state: without the thaw its
        #    own freeze of that volume would fail (EBUSY).
        killed_while_frozen(directory)
        result = sandpit_cli(server.env, "backup", str(server.data_dir.parent / "after.tar"))
        assert result.returncode == 0, result.stderr
        save(user, workspace, "after the backup\n")
    finally:
        user.close()


def test_the_backups_lock_keeps_the_reaper_out(server: SandpitServer) -> None:
    """Held by a backup, the lock refuses the reaper's attempt (no wait); released, grants it."""
    workspaces_dir = server.data_dir / "workspaces"
    with freeze_lock(workspaces_dir, wait=True) as first:
        assert first
        with freeze_lock(workspaces_dir, wait=False) as second:
            assert not second
    with freeze_lock(workspaces_dir, wait=False) as again:
        assert again


def test_thaw_without_workspaces_does_nothing(tmp_path: Path) -> None:
    assert thaw_left_frozen(tmp_path / "missing") == []
    with freeze_lock(tmp_path / "missing", wait=False) as taken:
        assert taken
