"""Workspace rows of CONTRACT.md, plus rename, open and saved IDE state."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import User


def test_create_list_get_delete(user: User) -> None:
    created = user.client.post("/api/workspaces", json={"name": "  homework 1  "})
    assert created.status_code == 201
    workspace = created.json()
    assert workspace["name"] == "homework 1"
    assert {"id", "name", "created_at", "updated_at", "last_opened_at"} <= set(workspace)

    listed = user.client.get("/api/workspaces").json()
    assert [w["id"] for w in listed] == [workspace["id"]]
    assert user.client.get(f"/api/workspaces/{workspace['id']}").json()["name"] == "homework 1"

    assert user.client.delete(f"/api/workspaces/{workspace['id']}").status_code == 204
    assert user.client.get(f"/api/workspaces/{workspace['id']}").status_code == 404
    assert user.client.get("/api/workspaces").json() == []


def test_list_shows_own_only(user: User, other_user: User) -> None:
    mine = user.workspace("mine")
    other_user.workspace("theirs")
    assert [w["id"] for w in user.client.get("/api/workspaces").json()] == [mine]


def test_delete_removes_files(user: User, data_dir: Path) -> None:
    workspace = user.workspace()
    user.client.put(f"/api/workspaces/{workspace}/files/a/b.py", content=b"print(1)\n")
    directory = data_dir / "workspaces" / workspace
    assert (directory / "a" / "b.py").is_file()
    assert user.client.delete(f"/api/workspaces/{workspace}").status_code == 204
    assert not directory.exists()


def test_invalid_names(user: User) -> None:
    for name, word in [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("x" * 101, "at most"),
        ("bad\u202ename", "invisible"),
    ]:
        response = user.client.post("/api/workspaces", json={"name": name})
        assert response.status_code == 422
        assert word in response.json()["detail"]
    missing = user.client.post("/api/workspaces", json={})
    assert missing.status_code == 422
    assert "name" in missing.json()["detail"]


def test_duplicate_name_conflicts(user: User) -> None:
    user.workspace("same")
    again = user.client.post("/api/workspaces", json={"name": "same"})
    assert again.status_code == 409
    assert "already have" in again.json()["detail"]


def test_rename_and_ui_state(user: User) -> None:
    workspace = user.workspace("before")
    state = {"tabs": ["main.py", "util.py"], "active": "main.py", "layout": {"editor": 0.6}}
    updated = user.client.patch(
        f"/api/workspaces/{workspace}", json={"name": "after", "ui_state": state}
    )
    assert updated.status_code == 200
    assert updated.json()["name"] == "after"
    opened = user.client.post(f"/api/workspaces/{workspace}/open").json()
    assert opened["ui_state"] == state
    assert opened["last_opened_at"] is not None


def test_ui_state_size_capped(user: User) -> None:
    workspace = user.workspace()
    response = user.client.patch(
        f"/api/workspaces/{workspace}", json={"ui_state": {"blob": "x" * 70_000}}
    )
    assert response.status_code == 413
    assert "64 KiB" in response.json()["detail"]


def test_requires_auth(anon: httpx.Client) -> None:
    assert anon.get("/api/workspaces").status_code == 401
    assert anon.post("/api/workspaces", json={"name": "x"}).status_code == 401
