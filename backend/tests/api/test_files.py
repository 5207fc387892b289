"""File rows of CONTRACT.md, plus folders, moves and quotas, through HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import User

MiB = 1024 * 1024


@pytest.fixture
def ws(user: User) -> str:
    return user.workspace()


def files_of(user: User, ws: str) -> dict[str, int]:
    response = user.client.get(f"/api/workspaces/{ws}/files")
    assert response.status_code == 200
    return {entry["path"]: entry["size"] for entry in response.json()}


def test_write_read_list_delete(user: User, ws: str) -> None:
    url = f"/api/workspaces/{ws}/files"
    created = user.client.put(f"{url}/main.py", content=b"print('hi')\n")
    assert created.status_code == 201
    assert created.json()["path"] == "main.py"
    replaced = user.client.put(f"{url}/main.py", content=b"print('hello')\n")
    assert replaced.status_code == 200
    read = user.client.get(f"{url}/main.py")
    assert read.status_code == 200
    assert read.content == b"print('hello')\n"
    assert read.headers["x-content-type-options"] == "nosniff"
    assert read.headers["content-type"].startswith("text/plain")

    user.client.put(f"{url}/pkg/sub/mod.py", content="x = 'é'\n".encode())
    assert files_of(user, ws) == {"main.py": 15, "pkg/sub/mod.py": 9}

    assert user.client.delete(f"{url}/main.py").status_code == 204
    assert user.client.get(f"{url}/main.py").status_code == 404
    assert user.client.delete(f"{url}/main.py").status_code == 404
    assert files_of(user, ws) == {"pkg/sub/mod.py": 9}


def test_unicode_names_are_normalized(user: User, ws: str) -> None:
    decomposed = "cafe\u0301.py"
    response = user.client.put(f"/api/workspaces/{ws}/files/{decomposed}", content=b"1\n")
    assert response.status_code == 201
    assert response.json()["path"] == "caf\u00e9.py"
    assert user.client.get(f"/api/workspaces/{ws}/files/caf\u00e9.py").content == b"1\n"


@pytest.mark.parametrize(
    "path",
    [
        "..%2Fescape.py",
        "a/..%2F..%2Fescape.py",
        "%2Fetc%2Fpasswd",
        "back%5Cslash.py",
        "nul%00.py",
        "tab%09.py",
        "bidi%E2%80%AEyp.exe",
        "zero%E2%80%8Bwidth.py",
        "x" * 256,
        "/".join(["d" * 200] * 6),
    ],
)
def test_invalid_paths(user: User, ws: str, path: str) -> None:
    for method in ("PUT", "GET", "DELETE"):
        response = user.client.request(
            method, f"/api/workspaces/{ws}/files/{path}", content=b"x" if method == "PUT" else None
        )
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["detail"].endswith(".")


def test_size_limit(user: User, ws: str) -> None:
    url = f"/api/workspaces/{ws}/files"
    assert user.client.put(f"{url}/exact.txt", content=b"a" * MiB).status_code == 201
    over = user.client.put(f"{url}/over.txt", content=b"a" * (MiB + 1))
    assert over.status_code == 413
    assert "1 MiB" in over.json()["detail"]
    assert "over.txt" not in files_of(user, ws)


def test_binary_refused_and_old_content_kept(user: User, ws: str) -> None:
    url = f"/api/workspaces/{ws}/files"
    user.client.put(f"{url}/data.txt", content=b"keep me\n")
    for body in (b"\x89PNG\r\n\x1a\n\x00\x00", b"\xff\xfe not utf-8", b"nul\x00inside"):
        response = user.client.put(f"{url}/data.txt", content=body)
        assert response.status_code == 415
        assert "text" in response.json()["detail"]
    assert user.client.get(f"{url}/data.txt").content == b"keep me\n"


def test_folders_and_moves(user: User, ws: str) -> None:
    base = f"/api/workspaces/{ws}"
    assert user.client.post(f"{base}/folders", json={"path": "src/lib"}).status_code == 201
    user.client.put(f"{base}/files/src/lib/a.py", content=b"a = 1\n")
    moved = user.client.post(f"{base}/move", json={"from": "src/lib/a.py", "to": "src/b.py"})
    assert moved.status_code == 200
    assert files_of(user, ws) == {"src/b.py": 6}
    renamed = user.client.post(f"{base}/move", json={"from": "src", "to": "app"})
    assert renamed.status_code == 200
    assert files_of(user, ws) == {"app/b.py": 6}

    user.client.put(f"{base}/files/c.py", content=b"c\n")
    clash = user.client.post(f"{base}/move", json={"from": "c.py", "to": "app/b.py"})
    assert clash.status_code == 409
    into_itself = user.client.post(f"{base}/move", json={"from": "app", "to": "app/inner"})
    assert into_itself.status_code == 400

    listing = user.client.get(f"{base}/files", params={"include_dirs": True}).json()
    kinds = {entry["path"]: entry["kind"] for entry in listing}
    assert kinds["app"] == "dir"
    assert kinds["app/lib"] == "dir"

    not_empty = user.client.delete(f"{base}/files/app")
    assert not_empty.status_code == 409
    assert user.client.delete(f"{base}/files/app", params={"recursive": True}).status_code == 204
    assert files_of(user, ws) == {"c.py": 2}


def test_files_written_on_disk_show_up(user: User, ws: str, data_dir: Path) -> None:
    # Stands in for files written by user code in the sandbox.
    directory = data_dir / "workspaces" / ws
    (directory / "out").mkdir()
    (directory / "out" / "result.csv").write_text("a,b\n1,2\n")
    assert files_of(user, ws) == {"out/result.csv": 8}


def test_symlink_planted_in_workspace_is_not_followed(
    user: User, ws: str, data_dir: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret\n")
    directory = data_dir / "workspaces" / ws
    os.symlink(secret, directory / "leak.txt")
    os.symlink("/", directory / "root")
    url = f"/api/workspaces/{ws}/files"
    # docs/api: reading through a link answers 400, writing replaces the link
    # itself, deleting removes the link and never its target.
    for path in ("leak.txt", "root/etc/passwd"):
        response = user.client.get(f"{url}/{path}")
        assert response.status_code == 400, (path, response.text)
        assert "host secret" not in response.text
        assert "root:" not in response.text
    through_link = user.client.put(f"{url}/root/tmp/planted.txt", content=b"x\n")
    assert through_link.status_code == 400, through_link.text
    assert not Path("/tmp/planted.txt").exists()
    replaced = user.client.put(f"{url}/leak.txt", content=b"overwrite\n")
    assert replaced.status_code == 200, replaced.text
    assert secret.read_text() == "host secret\n"
    assert not (directory / "leak.txt").is_symlink()
    assert (directory / "leak.txt").read_text() == "overwrite\n"
    os.remove(directory / "leak.txt")
    os.symlink(secret, directory / "leak.txt")
    deleted = user.client.delete(f"{url}/leak.txt")
    assert deleted.status_code == 204, deleted.text
    assert not os.path.lexists(directory / "leak.txt")
    assert secret.exists()
