"""Files written by user code stop at the workspace quota: the volume is full, not the host."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import User
from tests.servers import SandpitServer

QUOTA = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def small_quota_server() -> Iterator[SandpitServer]:
    server = SandpitServer(workspace_quota_bytes=str(QUOTA), workspace_quota_files="200")
    server.start()
    yield server
    server.close()


def test_filling_the_workspace_stops_at_the_quota(
    small_quota_server: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    user = make_user(small_quota_server)
    ws = user.workspace()
    fill = (
        "import errno\n"
        "written = 0\n"
        "try:\n"
        "    with open('big.bin', 'wb') as f:\n"
        "        while True:\n"
        "            f.write(b'x' * 1048576)\n"
        "            f.flush()\n"
        "            written += 1\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], written)\n"
    )
    result = user.client.post(
        f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": fill}, timeout=60
    ).json()
    code, written_mib = result["stdout"].split()
    assert code == "ENOSPC"
    assert 15 <= int(written_mib) <= 21
    # Too many files stop too (the volume has a bounded number of inodes).
    many = (
        "import errno\n"
        "try:\n"
        "    for i in range(100000):\n"
        "        open(f'f{i}', 'w').close()\n"
        "except OSError as e:\n"
        "    print(errno.errorcode[e.errno], i)\n"
    )
    result = user.client.post(
        f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": many}, timeout=60
    ).json()
    code, count = result["stdout"].split()
    assert code == "ENOSPC"
    assert int(count) < 1000
    # The API reports the over-quota workspace and refuses to grow it further.
    refused = user.client.put(f"/api/workspaces/{ws}/files/more.txt", content=b"x" * 1000)
    assert refused.status_code == 413
