"""The data directory is the server's: no other host user can list it or read
anything in it but the public runtime image."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.conftest import User
from tests.servers import SandpitServer

PLOT = """
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])
plt.show()
"""


def readable_by_others(root: Path) -> list[str]:
    """Entries beneath `root` another host user could read (every folder on the way
    searchable by others, the entry itself readable by others), as relative paths."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if not here.lstat().st_mode & stat.S_IXOTH:
            dirs.clear()  # nothing beneath is reachable
            continue
        for name in [*dirs, *files]:
            mode = (here / name).lstat().st_mode
            if mode & stat.S_IROTH and not stat.S_ISLNK(mode):
                found.append(str((here / name).relative_to(root)))
    return found


def test_the_data_directory_and_its_files_are_private(user: User, server: SandpitServer) -> None:
    ws = user.workspace()
    user.client.put(f"/api/workspaces/{ws}/files/main.py", content=b"print('hi')\n")
    run = user.client.post(
        f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": PLOT}, timeout=120
    )
    assert run.status_code == 200, run.text
    assert len(run.json()["images"]) == 1, run.json()
    data = server.data_dir

    assert stat.S_IMODE(data.stat().st_mode) == 0o711  # search only; see config.private_data_dir
    assert stat.S_IMODE((data / "workspaces").stat().st_mode) == 0o711
    assert stat.S_IMODE((data / "jwt_secret").stat().st_mode) == 0o600
    for database in data.glob("sandpit.db*"):  # with SQLite (the other pass: PostgreSQL)
        assert stat.S_IMODE(database.stat().st_mode) == 0o600, database
    plots = list((data / "runs").glob("*/*/*.png"))  # runs/<workspace>/<run>/<i>.png
    assert len(plots) == 1
    assert stat.S_IMODE((data / "runs").stat().st_mode) == 0o700
    assert stat.S_IMODE(plots[0].parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(plots[0].parent.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(plots[0].stat().st_mode) == 0o600
    # All another user can reach: the proxy's socket folders (each socket is its
    # sandbox uid's alone) and nothing else; the image lives elsewhere in tests.
    # (server.log is this test harness's, which sends the server's output there.)
    reachable = [
        p for p in readable_by_others(data) if not p.startswith("sandboxes") and p != "server.log"
    ]
    assert reachable == []
