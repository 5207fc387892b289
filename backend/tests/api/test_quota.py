"""Per-workspace quotas, on a server configured with small ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import User
from tests.servers import SandpitServer

MakeUser = Callable[[SandpitServer], User]


@pytest.fixture(scope="module")
def small_server() -> Iterator[SandpitServer]:
    server = SandpitServer(
        workspace_quota_bytes="1000",
        workspace_quota_files="3",
        max_workspaces_per_user="2",
    )
    server.start()
    yield server
    server.close()


def test_byte_quota(small_server: SandpitServer, make_user: MakeUser) -> None:
    user = make_user(small_server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files"
    assert user.client.put(f"{url}/a.txt", content=b"a" * 600).status_code == 201
    over = user.client.put(f"{url}/b.txt", content=b"b" * 500)
    assert over.status_code == 413
    assert "storage limit" in over.json()["detail"]
    # Replacing a file counts its old size as freed.
    assert user.client.put(f"{url}/a.txt", content=b"a" * 900).status_code == 200
    usage = user.client.get(f"/api/workspaces/{ws}/usage").json()
    # History counts against its own quota: a.txt's two saves within the coalescing
    # window are one version, holding the latest 900 bytes.
    assert usage == {
        "bytes": 900,
        "files": 1,
        "quota_bytes": 1000,
        "quota_files": 3,
        # No runs yet; the run storage limits are the defaults.
        "runs": 0,
        "runs_bytes": 0,
        "runs_quota_bytes": 64 * 1024 * 1024,
        "runs_kept": 50,
        "history_bytes": 900,
        "history_quota_bytes": 500 * 1024 * 1024,
    }


def test_file_count_quota(small_server: SandpitServer, make_user: MakeUser) -> None:
    user = make_user(small_server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files"
    for name in ("1.py", "2.py", "3.py"):
        assert user.client.put(f"{url}/{name}", content=b"x").status_code == 201
    over = user.client.put(f"{url}/4.py", content=b"x")
    assert over.status_code == 413
    assert "limit is 3" in over.json()["detail"]
    assert user.client.put(f"{url}/3.py", content=b"y").status_code == 200


def test_workspace_count_limit(small_server: SandpitServer, make_user: MakeUser) -> None:
    user = make_user(small_server)
    user.workspace("one")
    user.workspace("two")
    third = user.client.post("/api/workspaces", json={"name": "three"})
    assert third.status_code == 409
    assert "limit of 2 workspaces" in third.json()["detail"]


def test_files_survive_restart(make_user: MakeUser) -> None:
    server = SandpitServer()
    server.start()
    user = make_user(server)
    ws = user.workspace("persistent")
    user.client.put(f"/api/workspaces/{ws}/files/keep.py", content=b"print('kept')\n")
    server.stop()
    server.start()
    login = user.client.post(
        "/api/auth/login", json={"username": user.username, "password": user.password}
    )
    assert login.status_code == 200
    # The old token is still valid too: the secret is kept in the data directory.
    assert user.client.get(f"/api/workspaces/{ws}/files/keep.py").content == b"print('kept')\n"
    server.close()
