"""Workspace volumes are unmounted after idling and mounted again on the next use,
never while a sandbox or an open file holds them. Real loop mounts; a real server."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandpit.workspaces.volume import LOSETUP, MiB, Volumes
from tests.conftest import User
from tests.servers import SandpitServer, public_tmp

IDLE_S = 1


def attached(image: Path) -> bool:
    """Whether a loop device still holds `image`."""
    found = subprocess.run(
        [LOSETUP, "--associated", str(image)], capture_output=True, text=True, check=True
    )
    return bool(found.stdout.strip())


def poll(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def volume() -> Iterator[tuple[Volumes, Path]]:
    base = public_tmp("sandpit-idle-")
    volumes = Volumes(base, quota_bytes=8 * MiB, quota_files=50)
    directory = base / ("a" * 32)
    volumes.create(directory)
    yield volumes, directory
    volumes.remove(directory)
    directory.rmdir()
    base.rmdir()


def test_an_idle_volume_is_unmounted_unless_held(volume: tuple[Volumes, Path]) -> None:
    volumes, directory = volume
    (directory / "kept.txt").write_text("still here\n")
    # Not idle long enough yet.
    assert volumes.unmount_idle(3600, set()) == []
    # Its workspace has a live sandbox.
    assert volumes.unmount_idle(0, {directory.name}) == []
    # A file open on it (a file operation under way): busy, left mounted.
    with open(directory / "kept.txt") as held:
        assert volumes.unmount_idle(0, set()) == []
        assert os.path.ismount(directory)
        assert held.read() == "still here\n"
    assert volumes.unmount_idle(0, set()) == [directory]
    assert not os.path.ismount(directory)
    poll(lambda: not attached(volumes.image_of(directory)), 10, "the loop device to go")
    # The next use mounts it again, with the files as they were.
    volumes.ensure_mounted(directory)
    assert os.path.ismount(directory)
    assert (directory / "kept.txt").read_text() == "still here\n"


@pytest.fixture(scope="module")
def quick() -> Iterator[SandpitServer]:
    instance = SandpitServer(workspace_volume_idle_s=str(IDLE_S))
    instance.start()
    yield instance
    instance.close()


def test_the_server_unmounts_idle_volumes_and_remounts_on_use(
    quick: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    user = make_user(quick)
    ws = user.workspace()
    directory = quick.data_dir / "workspaces" / ws
    assert user.client.put(f"/api/workspaces/{ws}/files/a.py", content=b"A = 1\n").is_success
    poll(lambda: not os.path.ismount(directory), 15, "the idle volume to be unmounted")
    poll(lambda: not attached(directory.with_name(ws + ".img")), 15, "its loop device to go")

    # A file operation mounts it again.
    read = user.client.get(f"/api/workspaces/{ws}/files/a.py")
    assert read.status_code == 200
    assert read.content == b"A = 1\n"
    assert os.path.ismount(directory)

    # So does a sandbox, and while it lives the volume stays, idle or not.
    ran = user.client.post(
        f"/api/workspaces/{ws}/runs",
        params={"wait": True},
        json={"code": "print(open('a.py').read())"},
        timeout=120,
    )
    assert ran.json()["stdout"] == "A = 1\n\n"
    held_until = time.monotonic() + 4 * IDLE_S
    while time.monotonic() < held_until:
        assert os.path.ismount(directory), "unmounted under a live sandbox"
        time.sleep(0.1)
    assert user.client.delete(f"/api/workspaces/{ws}/sandbox").status_code == 204
    poll(lambda: not os.path.ismount(directory), 15, "the volume to go after its sandbox")
