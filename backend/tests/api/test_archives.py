"""Export and import through HTTP (issue 13 item 5): hostile zips, round trips, 404s."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import User
from tests.servers import SandpitServer
from tests.workspaces.data_samples import SAMPLES
from tests.workspaces.hostile_zips import HOSTILE

MakeUser = Callable[[SandpitServer], User]
ZIP = {"Content-Type": "application/zip"}


@pytest.fixture(scope="module")
def data_server() -> Iterator[SandpitServer]:
    """A server whose admin allowed every data format, with a small file-count quota."""
    server = SandpitServer(allowed_data_formats='["all"]', workspace_quota_files="100")
    server.start()
    yield server
    server.close()


def _zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _workspace_dirs(data_dir: Path) -> set[str]:
    return {p.name for p in (data_dir / "workspaces").iterdir()}


def _files(user: User, ws: str) -> dict[str, bytes]:
    listing = user.client.get(f"/api/workspaces/{ws}/files").json()
    return {
        e["path"]: user.client.get(f"/api/workspaces/{ws}/files/{e['path']}").content
        for e in listing
    }


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_zip_creates_nothing(
    name: str, data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    existing = user.workspace("mine")
    user.client.put(f"/api/workspaces/{existing}/files/main.py", content=b"print(1)\n")
    before_dirs = _workspace_dirs(data_server.data_dir)
    build, status, word = HOSTILE[name]
    body = build()

    refused = user.client.post(
        "/api/workspaces/import", params={"name": "new"}, content=body, headers=ZIP
    )
    assert refused.status_code == status, refused.text
    assert word in refused.json()["detail"]
    assert [w["name"] for w in user.client.get("/api/workspaces").json()] == ["mine"]
    assert _workspace_dirs(data_server.data_dir) == before_dirs

    into = user.client.post(f"/api/workspaces/{existing}/import", content=body, headers=ZIP)
    assert into.status_code == status, into.text
    assert word in into.json()["detail"]
    assert _files(user, existing) == {"main.py": b"print(1)\n"}
    assert list((data_server.data_dir / "imports").iterdir()) == []  # the spool is gone


def test_round_trip_byte_for_byte_with_data_files(
    data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    files = {"main.py": b"print('hi')\n", "pkg/mod.py": "x = 'é'\n".encode()}
    files |= {f"data/{name}": data for name, data in SAMPLES.values()}
    created = user.client.post(
        "/api/workspaces/import", params={"name": "one"}, content=_zip(files), headers=ZIP
    )
    assert created.status_code == 201, created.text
    first = created.json()["id"]
    assert created.json()["name"] == "one"
    assert _files(user, first) == files

    exported = user.client.get(f"/api/workspaces/{first}/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    assert "filename*=UTF-8''one.zip" in exported.headers["content-disposition"]
    again = user.client.post(
        "/api/workspaces/import", params={"name": "two"}, content=exported.content, headers=ZIP
    )
    assert again.status_code == 201, again.text
    assert _files(user, again.json()["id"]) == files
    second_export = user.client.get(f"/api/workspaces/{again.json()['id']}/export").content
    names = sorted(zipfile.ZipFile(io.BytesIO(second_export)).namelist())
    assert names == sorted(files)


def test_import_into_existing_adds_and_replaces(
    data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files"
    user.client.put(f"{url}/keep.py", content=b"keep = 1\n")
    user.client.put(f"{url}/main.py", content=b"old\n")
    answer = user.client.post(
        f"/api/workspaces/{ws}/import",
        content=_zip({"main.py": b"new\n", "lib/util.py": b"u = 2\n"}),
        headers=ZIP,
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert {k: result[k] for k in ("files", "bytes")} == {"files": 2, "bytes": 10}
    assert _files(user, ws) == {
        "keep.py": b"keep = 1\n",
        "main.py": b"new\n",
        "lib/util.py": b"u = 2\n",
    }
    # Each imported file has a version from the import.
    versions = user.client.get(f"/api/workspaces/{ws}/history", params={"path": "main.py"})
    assert versions.status_code == 200, versions.text
    assert versions.json()[0]["source"] == "import"
    # The automatic snapshot taken just before undoes the import.
    snapshots = user.client.get(f"/api/workspaces/{ws}/snapshots").json()
    before = next(s for s in snapshots if s["id"] == result["snapshot_before"])
    assert before["label"] == "Before import"
    restored = user.client.post(f"/api/workspaces/{ws}/snapshots/{before['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert _files(user, ws) == {"keep.py": b"keep = 1\n", "main.py": b"old\n"}


def test_import_into_existing_counts_the_quota(
    data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    for index in range(95):
        user.client.put(f"/api/workspaces/{ws}/files/f{index}.py", content=b"1\n")
    body = _zip({f"new{index}.py": b"2\n" for index in range(10)})
    over = user.client.post(f"/api/workspaces/{ws}/import", content=body, headers=ZIP)
    assert over.status_code == 413
    assert "limit of 100 files" in over.json()["detail"]
    assert len(_files(user, ws)) == 95


def test_export_leaves_out_local_unless_asked(user: User) -> None:
    body = _zip({"main.py": b"1\n", ".local/lib/site.py": b"pip = 1\n"})
    ws = user.client.post(
        "/api/workspaces/import", params={"name": "w"}, content=body, headers=ZIP
    ).json()["id"]
    plain = zipfile.ZipFile(io.BytesIO(user.client.get(f"/api/workspaces/{ws}/export").content))
    assert plain.namelist() == ["main.py"]
    full = user.client.get(f"/api/workspaces/{ws}/export", params={"include_local": True})
    assert sorted(zipfile.ZipFile(io.BytesIO(full.content)).namelist()) == [
        ".local/lib/site.py",
        "main.py",
    ]


def test_another_users_workspace_is_404(user: User, other_user: User) -> None:
    ws = user.workspace()
    assert other_user.client.get(f"/api/workspaces/{ws}/export").status_code == 404
    into = other_user.client.post(
        f"/api/workspaces/{ws}/import", content=_zip({"a.py": b"1\n"}), headers=ZIP
    )
    assert into.status_code == 404
    assert _files(user, ws) == {}


def test_bad_name_and_taken_name(user: User) -> None:
    body = _zip({"a.py": b"1\n"})
    bad = user.client.post(
        "/api/workspaces/import", params={"name": "a\x07b"}, content=body, headers=ZIP
    )
    assert bad.status_code == 422  # as for POST /api/workspaces: the name's shape
    user.workspace("taken")
    taken = user.client.post(
        "/api/workspaces/import", params={"name": "taken"}, content=body, headers=ZIP
    )
    assert taken.status_code == 409
    assert [w["name"] for w in user.client.get("/api/workspaces").json()] == ["taken"]


def test_import_body_may_pass_the_request_limit(user: User) -> None:
    """A 3 MiB zip (past the 2 MiB request limit, within the import limit) is taken."""
    payload = os.urandom(3 * 1024 * 1024).hex().encode()[: 3 * 1024 * 1024]
    body = _zip({f"part{i}.txt": payload[i::3] for i in range(3)}, zipfile.ZIP_STORED)
    assert len(body) > 2 * 1024 * 1024
    created = user.client.post(
        "/api/workspaces/import", params={"name": "big"}, content=body, headers=ZIP
    )
    assert created.status_code == 201, created.text


def test_import_into_existing_refuses_a_clash_of_kinds_before_writing(
    data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files"
    user.client.put(f"{url}/lib", content=b"a file named lib\n")
    user.client.post(f"/api/workspaces/{ws}/folders", json={"path": "data"})
    for files, word in (
        ({"a.py": b"1\n", "lib/util.py": b"2\n"}, "folder 'lib'"),
        ({"a.py": b"1\n", "data": b"3\n"}, "file 'data'"),
    ):
        refused = user.client.post(f"/api/workspaces/{ws}/import", content=_zip(files), headers=ZIP)
        assert refused.status_code == 400, refused.text
        assert word in refused.json()["detail"]
        assert _files(user, ws) == {"lib": b"a file named lib\n"}


def test_import_into_existing_never_follows_a_planted_link(
    data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    outside = data_server.data_dir / "outside"
    outside.mkdir()
    assert user.client.get(f"/api/workspaces/{ws}/files").json() == []  # its volume is mounted
    (data_server.data_dir / "workspaces" / ws / "lib").symlink_to(outside)
    refused = user.client.post(
        f"/api/workspaces/{ws}/import", content=_zip({"lib/evil.py": b"1\n"}), headers=ZIP
    )
    assert refused.status_code == 400
    assert "a link" in refused.json()["detail"]
    assert list(outside.iterdir()) == []
