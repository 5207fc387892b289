"""A server killed with SIGKILL leaves no sandbox process or cgroup behind after restart."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import User
from tests.servers import SandpitServer


def processes_of_uids(first: int, count: int) -> list[int]:
    """Host pids whose real uid is in [first, first + count): the server's sandboxes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:"):
                uid = int(line.split()[1])
                if first <= uid < first + count:
                    found.append(int(entry.name))
    return found


def cgroup_dirs(root_name: str) -> list[Path]:
    """Sandbox cgroups under the server's cgroup root, in every v1 hierarchy."""
    return [
        child
        for hierarchy in Path("/sys/fs/cgroup").iterdir()
        if (hierarchy / root_name).is_dir()
        for child in (hierarchy / root_name).iterdir()
        if child.is_dir()
    ]


def test_sigkill_then_restart_leaves_no_orphans(make_user: Callable[[SandpitServer], User]) -> None:
    server = SandpitServer()
    server.start()
    first, count = int(server.env["SANDBOX_UID_BASE"]), int(server.env["SANDBOX_UID_COUNT"])
    root = server.env["CGROUP_ROOT"]
    try:
        user = make_user(server)
        ws = user.workspace()
        # A run that leaves a daemon behind and another that is still running.
        started = user.client.post(
            f"/api/workspaces/{ws}/runs",
            json={
                "code": "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
                "    time.sleep(600)\ntime.sleep(600)"
            },
        )
        assert started.status_code == 202
        deadline = time.monotonic() + 20
        while len(processes_of_uids(first, count)) < 3:
            assert time.monotonic() < deadline, "the sandbox never started"
            time.sleep(0.1)
        assert cgroup_dirs(root)

        server.kill()
        # The launcher's parent-death signal and bwrap's --die-with-parent
        # take the sandbox down with the server.
        deadline = time.monotonic() + 10
        while processes_of_uids(first, count):
            assert time.monotonic() < deadline, "sandbox processes outlived the server"
            time.sleep(0.1)

        server.start()  # reaps the cgroups the dead server left
        assert cgroup_dirs(root) == []
        assert processes_of_uids(first, count) == []
        # And the workspace works again with a fresh sandbox.
        result = user.client.post(
            f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": "print('back')"}
        )
        assert result.json()["stdout"] == "back\n"
    finally:
        server.close()
    assert not os.path.exists(f"/sys/fs/cgroup/memory/{root}")
