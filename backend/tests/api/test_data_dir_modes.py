"""The data directory is the server's: no other host user can list it, look a
name up in it or read anything in it, and sandboxes start all the same (their
parts are staged for bubblewrap: `sandbox.backends.bubblewrap.staged_layout`)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
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

    assert stat.S_IMODE(data.stat().st_mode) == 0o700  # see config.private_data_dir
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
    # Nothing is reachable by another user, and a sandbox's uid is one: its
    # first run above needed no way in.
    assert readable_by_others(data) == []
    assert errno_as_nobody(data / "sandpit.db") == "EACCES"
    assert errno_as_nobody(data / "workspaces" / ws) == "EACCES"


def errno_as_nobody(path: Path) -> str:
    """What `os.stat(path)` fails with for an unprivileged host uid (nobody), or "ok"."""
    probe = (
        "import errno, os, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "try:\n    os.stat(sys.argv[1]); print('ok')\n"
        "except OSError as e:\n    print(errno.errorcode[e.errno])\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()
