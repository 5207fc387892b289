"""The per-user history quota: eviction order, named snapshots kept, usage shown.

A server with a 3,000-byte history quota and no coalescing, once on SQLite
and once on PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import User
from tests.history.helpers import put, versions
from tests.servers import PostgresServer, SandpitServer

MakeUser = Callable[[SandpitServer], User]
QUOTA = 3000


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def small_server(request: pytest.FixtureRequest) -> Iterator[SandpitServer]:
    database_url = ""
    if request.param == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        database_url = postgres.create_database()
    server = SandpitServer(database_url, history_quota_bytes=str(QUOTA), history_coalesce_s="0")
    server.start()
    yield server
    server.close()


def _blob(n: int, size: int = 500) -> bytes:
    return (f"{n:04d}" * size)[:size].encode()


def test_oldest_automatic_versions_go_first_named_snapshots_stay(
    small_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(small_server)
    ws = user.workspace()
    put(user.client, ws, "keep.txt", _blob(0))
    named = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "keep"})
    assert named.status_code == 201, named.text
    for n in range(1, 9):  # 8 versions of 500 bytes: 4,500 bytes with the snapshot's
        put(user.client, ws, "a.txt", _blob(n))
    usage = user.client.get("/api/history/usage").json()
    assert usage["quota_bytes"] == QUOTA
    assert usage["bytes"] <= QUOTA
    kept = versions(user.client, ws, "a.txt")
    # Newest first, and what survived is a run of the newest ones.
    sizes = [user.client.get(f"/api/workspaces/{ws}/history/{v['id']}").content for v in kept]
    assert sizes == [_blob(n) for n in range(8, 8 - len(kept), -1)]
    # 500 bytes of the snapshot and five versions of 500 fill the 3,000 exactly.
    assert len(kept) == 5
    # The named snapshot, and its content, survived.
    snapshot = named.json()["id"]
    files = user.client.get(f"/api/workspaces/{ws}/snapshots/{snapshot}/files/keep.txt")
    assert files.content == _blob(0)
    # keep.txt's own version (the oldest) went before a.txt's newer ones.
    assert versions(user.client, ws, "keep.txt") == []


def test_an_automatic_snapshot_is_evicted_by_age_a_named_one_refused(
    small_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(small_server)
    ws = user.workspace()
    put(user.client, ws, "a.txt", _blob(100))
    named = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "named"}).json()
    put(user.client, ws, "a.txt", _blob(101))
    # A restore makes an automatic snapshot (holding _blob(101)).
    restore = user.client.post(f"/api/workspaces/{ws}/snapshots/{named['id']}/restore")
    assert restore.status_code == 200, restore.text
    automatic = restore.json()["snapshot_before"]
    for n in range(102, 110):
        put(user.client, ws, "b.txt", _blob(n))
    remaining = {s["id"] for s in user.client.get(f"/api/workspaces/{ws}/snapshots").json()}
    assert named["id"] in remaining
    assert automatic not in remaining
    # A named snapshot that cannot fit is refused, never kept past the quota.
    put(user.client, ws, "c.txt", _blob(200, 2000))
    put(user.client, ws, "d.txt", _blob(201, 2000))
    refused = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "too big"})
    assert refused.status_code == 413
    assert "history" in refused.json()["detail"]
    labels = [s["label"] for s in user.client.get(f"/api/workspaces/{ws}/snapshots").json()]
    assert "too big" not in labels
    assert "named" in labels


def test_evicted_contents_leave_the_disk(small_server: SandpitServer, make_user: MakeUser) -> None:
    user = make_user(small_server)
    ws = user.workspace()
    first = _blob(300)
    put(user.client, ws, "a.txt", first)
    for n in range(301, 312):
        put(user.client, ws, "a.txt", _blob(n))
    sha = hashlib.sha256(first).hexdigest()
    assert not (small_server.data_dir / "blobs" / sha[:2] / sha).exists()
