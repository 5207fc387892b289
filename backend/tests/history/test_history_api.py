"""File history and snapshots through the API, on SQLite and PostgreSQL, with real sandboxes.

Versions come from every source the server sees: editor and API saves, a
run and a terminal command (through the file-system watcher), restores.
"""

from __future__ import annotations

import time

import httpx

from tests.conftest import User
from tests.history.helpers import content, files, put, versions, wait_for_version
from tests.servers import SandpitServer
from tests.terminals.client import TerminalClient


def _run(client: httpx.Client, ws: str, code: str) -> None:
    answer = client.post(f"/api/workspaces/{ws}/runs", params={"wait": "true"}, json={"code": code})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ok", answer.json()


def test_editor_and_api_saves_are_versions_newest_first(user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "main.py", b"print(1)\n", source="editor")
    put(user.client, ws, "main.py", b"print(2)\n", source="api")
    found = versions(user.client, ws, "main.py")
    assert [v["source"] for v in found] == ["api", "editor"]
    assert set(found[0]) >= {"id", "created_at", "size", "source"}
    assert found[0]["size"] == len(b"print(2)\n")
    assert content(user.client, ws, found[1]["id"]) == b"print(1)\n"
    # Saving the same content again makes no new version.
    put(user.client, ws, "main.py", b"print(2)\n")
    assert len(versions(user.client, ws, "main.py")) == 2


def test_rapid_saves_coalesce_into_one_version(user: User) -> None:
    ws = user.workspace()
    for i in range(5):
        put(user.client, ws, "a.py", f"x = {i}\n".encode(), source="editor")
    found = versions(user.client, ws, "a.py")
    assert len(found) == 1
    assert content(user.client, ws, found[0]["id"]) == b"x = 4\n"


def test_a_file_written_by_a_run_gets_a_sandbox_version(user: User) -> None:
    ws = user.workspace()
    _run(user.client, ws, "open('out.txt', 'w').write('from a run\\n')")
    found = wait_for_version(user.client, ws, "out.txt", b"from a run\n")
    assert [v["source"] for v in found] == ["sandbox"]


def test_a_program_rewriting_a_file_makes_one_version_per_window(user: User) -> None:
    ws = user.workspace()
    _run(
        user.client,
        ws,
        "import time\nfor i in range(30):\n"
        "    open('loop.txt', 'w').write(f'step {i}\\n')\n    time.sleep(0.05)\n",
    )
    found = wait_for_version(user.client, ws, "loop.txt", b"step 29\n")
    # 1.5 s of rewrites, inside the 5 s coalescing window: one version, the last state.
    assert len(found) == 1, found


def test_a_file_written_by_a_terminal_command_gets_a_sandbox_version(
    server: SandpitServer, user: User
) -> None:
    ws = user.workspace()
    created = user.client.post(f"/api/workspaces/{ws}/terminals")
    assert created.status_code == 201, created.text
    with TerminalClient(server, user.token, ws, created.json()["id"]) as terminal:
        terminal.read_until(r"\$ ")
        terminal.run("echo typed > notes.txt")
    found = wait_for_version(user.client, ws, "notes.txt", b"typed\n")
    assert found[0]["source"] == "sandbox"


def test_generated_folders_are_not_recorded(user: User) -> None:
    ws = user.workspace()
    _run(
        user.client,
        ws,
        "import os\nfor d in ('.local/lib', '__pycache__', 'src/node_modules'):\n"
        "    os.makedirs(d, exist_ok=True)\n"
        "open('.local/lib/x.py', 'w').write('x')\n"
        "open('__pycache__/m.cpython-311.pyc', 'w').write('x')\n"
        "open('src/node_modules/y.js', 'w').write('y')\n"
        "open('kept.txt', 'w').write('kept')\n",
    )
    wait_for_version(user.client, ws, "kept.txt", b"kept")
    for skipped in (".local/lib/x.py", "__pycache__/m.cpython-311.pyc", "src/node_modules/y.js"):
        assert versions(user.client, ws, skipped) == []


def test_snapshot_compare_restore_and_undo(user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "main.py", b"v1\n")
    put(user.client, ws, "lib/util.py", b"util\n")
    made = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "first"})
    assert made.status_code == 201, made.text
    snap = made.json()
    assert (snap["label"], snap["files"], snap["bytes"]) == ("first", 2, 8)
    assert set(snap) >= {"id", "label", "created_at", "files", "bytes"}
    base = f"/api/workspaces/{ws}/snapshots/{snap['id']}"
    listed = user.client.get(f"{base}/files").json()
    assert listed == [{"path": "lib/util.py", "size": 5}, {"path": "main.py", "size": 3}]
    assert user.client.get(f"{base}/files/lib/util.py").content == b"util\n"

    # Change things: edit, delete, add.
    put(user.client, ws, "main.py", b"v2\n")
    assert user.client.delete(f"/api/workspaces/{ws}/files/lib/util.py").status_code == 204
    put(user.client, ws, "new.py", b"new\n")
    compared = user.client.get(f"{base}/compare").json()
    assert compared == [
        {"path": "lib/util.py", "status": "removed"},
        {"path": "main.py", "status": "changed"},
        {"path": "new.py", "status": "added"},
    ]
    changed_state = files(user.client, ws)

    restored = user.client.post(f"{base}/restore")
    assert restored.status_code == 200, restored.text
    before = restored.json()["snapshot_before"]
    assert files(user.client, ws) == {"lib/util.py": b"util\n", "main.py": b"v1\n"}
    # The state before is a snapshot, newest first, marked automatic.
    snapshots = user.client.get(f"/api/workspaces/{ws}/snapshots").json()
    assert [s["id"] for s in snapshots] == [before, snap["id"]]
    assert snapshots[0]["automatic"] is True
    assert snapshots[1]["automatic"] is False
    assert next(v["source"] for v in versions(user.client, ws, "main.py")) == "restore"

    # Undo the restore: restore the snapshot made just before it.
    undo = user.client.post(f"/api/workspaces/{ws}/snapshots/{before}/restore")
    assert undo.status_code == 200, undo.text
    assert files(user.client, ws) == changed_state


def test_restore_one_file_from_a_snapshot(user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "a.py", b"a1\n")
    put(user.client, ws, "b.py", b"b1\n")
    snap = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "s"}).json()
    put(user.client, ws, "a.py", b"a2\n")
    put(user.client, ws, "b.py", b"b2\n")
    url = f"/api/workspaces/{ws}/snapshots/{snap['id']}/restore"
    done = user.client.post(url, params={"path": "a.py"})
    assert done.status_code == 200, done.text
    assert done.json()["written"] == ["a.py"]
    assert files(user.client, ws) == {"a.py": b"a1\n", "b.py": b"b2\n"}
    missing = user.client.post(url, params={"path": "nope.py"})
    assert missing.status_code == 404


def test_a_deleted_file_can_be_brought_back(user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "gone.py", b"precious\n")
    assert user.client.delete(f"/api/workspaces/{ws}/files/gone.py").status_code == 204
    deleted = user.client.get(f"/api/workspaces/{ws}/deleted-files").json()
    assert [d["path"] for d in deleted] == ["gone.py"]
    found = versions(user.client, ws, "gone.py")
    assert len(found) == 1
    back = user.client.post(f"/api/workspaces/{ws}/history/{found[0]['id']}/restore")
    assert back.status_code == 200, back.text
    assert user.client.get(f"/api/workspaces/{ws}/files/gone.py").content == b"precious\n"
    assert user.client.get(f"/api/workspaces/{ws}/deleted-files").json() == []
    # Restoring a version is undoable too: the state before is a snapshot.
    assert back.json()["snapshot_before"] in {
        s["id"] for s in user.client.get(f"/api/workspaces/{ws}/snapshots").json()
    }


def test_a_restore_while_a_run_runs_is_refused_with_a_sentence(user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "a.py", b"a\n")
    snap = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "s"}).json()
    started = user.client.post(
        f"/api/workspaces/{ws}/runs", json={"code": "import time; time.sleep(60)"}
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    try:
        refused = user.client.post(f"/api/workspaces/{ws}/snapshots/{snap['id']}/restore")
        assert refused.status_code == 409
        assert "run is still running" in refused.json()["detail"]
    finally:
        assert user.client.post(f"/api/runs/{run_id}/stop").status_code in (200, 202, 204)
    deadline = time.monotonic() + 30
    while user.client.get(f"/api/runs/{run_id}").json()["status"] == "running":
        assert time.monotonic() < deadline, "the run did not stop"
        time.sleep(0.1)
    assert user.client.post(f"/api/workspaces/{ws}/snapshots/{snap['id']}/restore").is_success


def test_another_users_history_answers_404(user: User, other_user: User) -> None:
    ws = user.workspace()
    put(user.client, ws, "a.py", b"secret\n")
    snap = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "s"}).json()
    version = versions(user.client, ws, "a.py")[0]["id"]
    theirs = other_user.client
    for method, url in (
        ("GET", f"/api/workspaces/{ws}/snapshots"),
        ("POST", f"/api/workspaces/{ws}/snapshots"),
        ("GET", f"/api/workspaces/{ws}/snapshots/{snap['id']}/files"),
        ("GET", f"/api/workspaces/{ws}/snapshots/{snap['id']}/files/a.py"),
        ("GET", f"/api/workspaces/{ws}/snapshots/{snap['id']}/compare"),
        ("POST", f"/api/workspaces/{ws}/snapshots/{snap['id']}/restore"),
        ("DELETE", f"/api/workspaces/{ws}/snapshots/{snap['id']}"),
        ("GET", f"/api/workspaces/{ws}/history?path=a.py"),
        ("GET", f"/api/workspaces/{ws}/history/{version}"),
        ("POST", f"/api/workspaces/{ws}/history/{version}/restore"),
        ("GET", f"/api/workspaces/{ws}/deleted-files"),
    ):
        answer = theirs.request(method, url, json={"label": "x"} if method == "POST" else None)
        assert answer.status_code == 404, (method, url, answer.text)
    # Their own workspace, with the ids of mine: still 404.
    own = other_user.workspace()
    assert theirs.get(f"/api/workspaces/{own}/snapshots/{snap['id']}/files").status_code == 404
    assert theirs.get(f"/api/workspaces/{own}/history/{version}").status_code == 404
    assert theirs.post(f"/api/workspaces/{own}/history/{version}/restore").status_code == 404


def test_deleting_a_workspace_deletes_its_history_and_blobs(
    server: SandpitServer, user: User
) -> None:
    import hashlib

    ws = user.workspace()
    unique = f"only here {time.monotonic_ns()}\n".encode()
    put(user.client, ws, "a.py", unique)
    user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "s"})
    sha = hashlib.sha256(unique).hexdigest()
    blob = server.data_dir / "blobs" / sha[:2] / sha
    assert blob.read_bytes() == unique
    assert user.client.delete(f"/api/workspaces/{ws}").status_code == 204
    assert not blob.exists()
    assert (
        user.client.get(f"/api/workspaces/{ws}/history", params={"path": "a.py"}).status_code == 404
    )
