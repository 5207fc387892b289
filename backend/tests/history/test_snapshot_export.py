"""A snapshot's export (`GET .../snapshots/{sid}/export`), on SQLite and PostgreSQL.

The zip must hold exactly the snapshot's files, byte for byte, whatever the
workspace became since; have the layout of the workspace's export; answer
404 for another user's snapshot; and fail the download rather than hand out
a zip whose content is not what the snapshot stored.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from urllib.parse import unquote

import httpx
import pytest

from tests.conftest import User
from tests.history.helpers import files, put
from tests.servers import SandpitServer

# Text of several sizes: empty, small, nested, non-ASCII names, and one file
# of several 64 KiB chunks (the export streams each file in such pieces).
_BIG = "".join(f"line {i}: {'é' * (i % 50)}\n" for i in range(12_000)).encode()
_ORIGINAL = {
    "main.py": b"print('snapshot')\n",
    "empty.txt": b"",
    "pkg/deep/mod.py": b"VALUE = 42\n",
    "données/café.csv": "a,b\n1,é\n".encode(),
    "big.txt": _BIG,
}


def _zip(answer: httpx.Response) -> zipfile.ZipFile:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert answer.headers["x-content-type-options"] == "nosniff"
    return zipfile.ZipFile(io.BytesIO(answer.content))


def _snapshot(user: User, ws: str, label: str) -> dict[str, object]:
    made = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": label})
    assert made.status_code == 201, made.text
    snapshot: dict[str, object] = made.json()
    return snapshot


def test_a_snapshots_export_holds_its_files_byte_for_byte_after_the_workspace_changed(
    user: User,
) -> None:
    ws = user.workspace()
    for path, data in _ORIGINAL.items():
        put(user.client, ws, path, data)
    snap = _snapshot(user, ws, "hand-in 1/2")
    workspace_zip = _zip(user.client.get(f"/api/workspaces/{ws}/export"))

    # The workspace moves on: a file changed, one deleted, one added.
    put(user.client, ws, "main.py", b"print('changed since')\n")
    assert user.client.delete(f"/api/workspaces/{ws}/files/pkg/deep/mod.py").status_code == 204
    put(user.client, ws, "new.py", b"added later\n")
    assert files(user.client, ws)["main.py"] == b"print('changed since')\n"

    answer = user.client.get(f"/api/workspaces/{ws}/snapshots/{snap['id']}/export")
    archive = _zip(answer)
    # The label names the file, its "/" made harmless.
    disposition = answer.headers["content-disposition"]
    assert unquote(disposition.split("''", 1)[1]) == "ws - hand-in 1_2.zip"
    assert archive.testzip() is None
    exported = {info.filename: archive.read(info) for info in archive.infolist()}
    assert exported == _ORIGINAL
    manifest = user.client.get(f"/api/workspaces/{ws}/snapshots/{snap['id']}/files").json()
    assert sorted(exported) == [f["path"] for f in manifest]

    # The same layout as the workspace's export taken at the snapshot's moment.
    assert {i.filename: workspace_zip.read(i) for i in workspace_zip.infolist()} == _ORIGINAL
    for info in archive.infolist():
        twin = workspace_zip.getinfo(info.filename)
        assert (info.compress_type, info.external_attr, info.create_system) == (
            twin.compress_type,
            twin.external_attr,
            twin.create_system,
        )
    # Every entry dated when the snapshot was taken (zip times are local, to 2 s).
    dates = {info.date_time for info in archive.infolist()}
    assert len(dates) == 1


def test_an_empty_snapshot_exports_an_empty_zip(user: User) -> None:
    ws = user.workspace()
    snap = _snapshot(user, ws, "nothing yet")
    archive = _zip(user.client.get(f"/api/workspaces/{ws}/snapshots/{snap['id']}/export"))
    assert archive.namelist() == []


def test_another_users_snapshot_export_answers_404(user: User, other_user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "secret.py", b"mine\n")
    snap = _snapshot(user, ws, "s")
    url = f"/api/workspaces/{ws}/snapshots/{snap['id']}/export"
    assert other_user.client.get(url).status_code == 404
    # Their own workspace with my snapshot's id: still 404, and nothing of mine in it.
    own = other_user.workspace()
    theirs = other_user.client.get(f"/api/workspaces/{own}/snapshots/{snap['id']}/export")
    assert theirs.status_code == 404
    assert b"mine" not in theirs.content
    # A snapshot id that does not exist, in my own workspace.
    assert user.client.get(f"/api/workspaces/{ws}/snapshots/nope/export").status_code == 404


def test_a_damaged_blob_fails_the_download_instead_of_exporting_wrong_bytes(
    server: SandpitServer, user: User
) -> None:
    ws = user.workspace()
    unique = f"only in this test {time.monotonic_ns()}\n".encode() * 4000
    put(user.client, ws, "a.txt", unique)
    snap = _snapshot(user, ws, "s")
    sha = hashlib.sha256(unique).hexdigest()
    blob = server.data_dir / "blobs" / sha[:2] / sha
    assert blob.read_bytes() == unique
    blob.write_bytes(unique.replace(b"only", b"ONLY"))  # same size, other content

    url = f"/api/workspaces/{ws}/snapshots/{snap['id']}/export"
    with user.client.stream("GET", url) as answer:
        assert answer.status_code == 200  # sent before the first blob is read
        with pytest.raises(httpx.RemoteProtocolError):
            answer.read()  # the body ends without its last chunk: a failed download
