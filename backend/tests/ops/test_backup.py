"""`sandpit backup` while people work, `sandpit restore` into a fresh server, on both databases.

Real servers, real sandboxes, the real command line: a backup is taken
while a terminal types, runs run and files are saved; it is restored into
a new data directory and database, and a second server started on them
must show every user, workspace and file byte for byte.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import User
from tests.servers import PostgresServer, SandpitServer, mounts_under, public_tmp
from tests.terminals.client import TerminalClient

# Bytes that are not UTF-8 text, written by user code (the file API takes text only).
BINARY_PROGRAM = (
    "import os\n"
    "open('blob.bin', 'wb').write(bytes(range(256)) * 4096)\n"
    "os.makedirs('pkg/sub', exist_ok=True)\n"
    "open('pkg/sub/deep.txt', 'w').write('deep')\n"
    "os.symlink('/usr/bin/python3', 'py-link')\n"
    "import matplotlib.pyplot as plt\n"
    "plt.plot([1, 2, 3])\n"
    "plt.show()\n"
)


def sandpit_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m sandpit ARGS` with a server's settings (its environment)."""
    return subprocess.run(
        [sys.executable, "-m", "sandpit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def files_of(user: User, workspace_id: str) -> dict[str, bytes]:
    listing = user.client.get(f"/api/workspaces/{workspace_id}/files")
    assert listing.status_code == 200, listing.text
    contents = {}
    for entry in listing.json():
        if entry["kind"] != "file":
            continue
        got = user.client.get(f"/api/workspaces/{workspace_id}/files/{entry['path']}")
        # 415: not text (the binary file written by user code is compared in the sandbox).
        assert got.status_code in (200, 415), (entry, got.text)
        contents[entry["path"]] = got.content if got.status_code == 200 else b"<binary>"
    return contents


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_urls(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Two fresh databases: the original's and the restore's ("" means SQLite in the data dir)."""
    if request.param == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        return postgres.create_database(), postgres.create_database()
    return "", ""


@pytest.fixture
def original(database_urls: tuple[str, str]) -> Iterator[SandpitServer]:
    server = SandpitServer(database_urls[0])
    server.start()
    yield server
    server.close()


class Busy:
    """Saves, runs and terminal typing on one workspace, in threads, until stopped."""

    def __init__(self, server: SandpitServer, user: User, workspace_id: str) -> None:
        self.server, self.user, self.workspace = server, user, workspace_id
        self.stop = threading.Event()
        self.saved: set[bytes] = set()
        self.errors: list[str] = []
        self.counts = {"saves": 0, "runs": 0, "echoes": 0}
        self.threads = [
            threading.Thread(target=self._saves),
            threading.Thread(target=self._runs),
            threading.Thread(target=self._typing),
        ]

    def __enter__(self) -> Busy:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not self.errors, self.errors

    def _saves(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {self.user.token}"
            n = 0
            while not self.stop.is_set():
                # Each version differs in length and content: a torn copy matches none.
                body = (f"version {n}\n" * (1 + n % 50)).encode()
                self.saved.add(body)
                url = f"/api/workspaces/{self.workspace}/files/busy.txt"
                response = client.put(url, content=body)
                if response.status_code not in (200, 201):
                    self.errors.append(f"save: {response.status_code} {response.text}")
                n += 1
                self.counts["saves"] += 1

    def _runs(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=60) as client:
            client.headers["Authorization"] = f"Bearer {self.user.token}"
            while not self.stop.is_set():
                response = client.post(
                    f"/api/workspaces/{self.workspace}/runs",
                    params={"wait": "true"},
                    json={"code": "open('run-out.txt', 'w').write('x' * 100000); print('ran')"},
                )
                if response.status_code != 200 or response.json()["stdout"] != "ran\n":
                    self.errors.append(f"run: {response.status_code} {response.text[:300]}")
                self.counts["runs"] += 1

    def _typing(self) -> None:
        created = self.user.client.post(f"/api/workspaces/{self.workspace}/terminals")
        if created.status_code != 201:
            self.errors.append(f"terminal: {created.text}")
            return
        with TerminalClient(
            self.server, self.user.token, self.workspace, created.json()["id"]
        ) as terminal:
            terminal.read_until(r"\$ ")
            n = 0
            while not self.stop.is_set():
                out = terminal.run(f"echo typed-{n} | tee -a typed.log")
                if f"typed-{n}" not in out:
                    self.errors.append(f"terminal: {out!r}")
                n += 1
                self.counts["echoes"] += 1


def test_backup_while_working_restores_into_a_new_server(
    original: SandpitServer, database_urls: tuple[str, str], tmp_path: Path
) -> None:
    alice, bob = User(original), User(original)
    try:
        quiet = alice.workspace("quiet")
        for path, text in {"main.py": "print('hello')\n", "notes/a.md": "# é ü ✓\n"}.items():
            assert alice.client.put(
                f"/api/workspaces/{quiet}/files/{path}", content=text.encode()
            ).status_code in (200, 201)
        made = alice.client.post(
            f"/api/workspaces/{quiet}/runs", params={"wait": "true"}, json={"code": BINARY_PROGRAM}
        )
        assert made.json()["status"] == "ok", made.text
        run_id = made.json()["id"]
        plot = alice.client.get(f"/api/runs/{run_id}/images/0")
        assert plot.status_code == 200, plot.text
        # A second version of main.py (another source, so not coalesced with
        # the first), then a named snapshot holding the binary file too: both
        # live in the blob store and the history tables.
        assert alice.client.put(
            f"/api/workspaces/{quiet}/files/main.py",
            content=b"print('hello again')\n",
            params={"source": "editor"},
        ).status_code in (200, 201)
        snapshot = alice.client.post(
            f"/api/workspaces/{quiet}/snapshots", json={"label": "Before the backup"}
        )
        assert snapshot.status_code == 201, snapshot.text
        quiet_history = _history_of(alice, quiet, "main.py")
        assert len(quiet_history) == 2
        quiet_snapshots = _snapshots_of(alice, quiet)
        assert "blob.bin" in quiet_snapshots[snapshot.json()["id"]][1]
        idle = bob.workspace("idle")
        assert (
            bob.client.put(f"/api/workspaces/{idle}/files/b.py", content=b"x = 1\n").status_code
            == 201
        )
        busy = bob.workspace("busy")
        expected = {quiet: files_of(alice, quiet), idle: files_of(bob, idle)}
        # The binary file and the link, read on disk (the file API serves text only).
        quiet_dir = original.data_dir / "workspaces" / quiet
        blob_sha = hashlib.sha256((quiet_dir / "blob.bin").read_bytes()).hexdigest()
        # An idle volume: unmounted, as after a restart (the backup mounts it privately).
        subprocess.run(["umount", str(original.data_dir / "workspaces" / idle)], check=True)

        destination = tmp_path / "backup.tar.gz"
        with Busy(original, bob, busy) as work:
            # Let each kind of work get going before and keep going during the backup.
            _wait_counts(work, 2)
            result = sandpit_cli(original.env, "backup", str(destination))
            before = dict(work.counts)
            _wait_counts(work, before["runs"] + 1)
        assert result.returncode == 0, result.stderr
        assert "backed up 3 workspaces" in result.stdout
        assert work.counts["echoes"] > before["echoes"] - 1

        restored = SandpitServer(database_urls[1])
        try:
            restored.data_dir.mkdir(parents=True)
            result = sandpit_cli(restored.env, "restore", str(destination))
            assert result.returncode == 0, result.stderr
            # Nothing is left mounted by the restore: the server mounts on first use.
            assert mounts_under(restored.data_dir) == []
            restored.start()
            for who, workspaces in ((alice, {quiet}), (bob, {idle, busy})):
                again = _sign_in(restored, who)
                listed = {w["id"] for w in again.client.get("/api/workspaces").json()}
                assert listed == workspaces
                for workspace_id in workspaces & set(expected):
                    assert files_of(again, workspace_id) == expected[workspace_id]
                if who is bob:
                    # Every version of busy.txt the copied database names has
                    # its blob: some whole save, never a torn or missing one.
                    busy_history = _history_of(again, busy, "busy.txt")
                    assert busy_history
                    assert set(busy_history.values()) <= work.saved
                    # Saved during the backup: some whole version, never a torn one.
                    saved = files_of(again, busy)["busy.txt"]
                    assert saved in work.saved
                    log = files_of(again, busy)["typed.log"].decode()
                    assert log.startswith("typed-0\n")
                    assert log.endswith("\n")
                else:
                    assert _history_of(again, quiet, "main.py") == quiet_history
                    assert _snapshots_of(again, quiet) == quiet_snapshots
                    assert again.client.get(f"/api/runs/{run_id}").json()["stdout"] == ""
                    # The plot, kept in the data directory's runs/ store.
                    assert again.client.get(f"/api/runs/{run_id}/images/0").content == plot.content
                    ran = again.client.post(
                        f"/api/workspaces/{quiet}/runs",
                        params={"wait": "true"},
                        json={
                            "code": "import hashlib, os\n"
                            "print(hashlib.sha256(open('blob.bin','rb').read()).hexdigest())\n"
                            "print(os.readlink('py-link'))"
                        },
                    )
                    assert ran.json()["stdout"] == f"{blob_sha}\n/usr/bin/python3\n", ran.text
                again.close()
        finally:
            restored.close()
    finally:
        alice.close()
        bob.close()


def _history_of(user: User, workspace_id: str, path: str) -> dict[tuple[str, ...], bytes]:
    """Every version of `path`: (id, time, size, source) -> its content, read back."""
    listed = user.client.get(f"/api/workspaces/{workspace_id}/history", params={"path": path})
    assert listed.status_code == 200, listed.text
    history: dict[tuple[str, ...], bytes] = {}
    for version in listed.json():
        got = user.client.get(f"/api/workspaces/{workspace_id}/history/{version['id']}")
        assert got.status_code == 200, (version, got.text)
        assert len(got.content) == version["size"]
        key = (version["id"], version["created_at"], str(version["size"]), version["source"])
        history[key] = got.content
    return history


def _snapshots_of(user: User, workspace_id: str) -> dict[str, tuple[Any, dict[str, bytes]]]:
    """Every snapshot by id: its listing and each of its files' content, read back."""
    base = f"/api/workspaces/{workspace_id}/snapshots"
    listed = user.client.get(base)
    assert listed.status_code == 200, listed.text
    snapshots: dict[str, tuple[Any, dict[str, bytes]]] = {}
    for snapshot in listed.json():
        files = user.client.get(f"{base}/{snapshot['id']}/files")
        assert files.status_code == 200, files.text
        contents = {}
        for entry in files.json():
            got = user.client.get(f"{base}/{snapshot['id']}/files/{entry['path']}")
            assert got.status_code == 200, (entry, got.text)
            assert len(got.content) == entry["size"]
            contents[entry["path"]] = got.content
        snapshots[snapshot["id"]] = (snapshot, contents)
    return snapshots


def _wait_counts(work: Busy, at_least: int) -> None:
    from tests.servers import wait_for

    wait_for(lambda: min(work.counts.values()) >= at_least or work.errors, 120, "busy work")
    assert not work.errors, work.errors


def _sign_in(server: SandpitServer, user: User) -> User:
    """`user`, signed in on another server with the same password."""
    again = User.__new__(User)
    again.username, again.password = user.username, user.password
    again.client = httpx.Client(base_url=server.url, timeout=60)
    login = again.client.post(
        "/api/auth/login", json={"username": user.username, "password": user.password}
    )
    assert login.status_code == 200, login.text
    again.token = login.json()["access_token"]
    again.id = user.id
    again.client.cookies.clear()
    again.client.headers["Authorization"] = f"Bearer {again.token}"
    return again


@pytest.fixture(scope="module")
def small_backup() -> Iterator[tuple[Path, SandpitServer]]:
    """A finished backup of a server with one user and a workspace (SQLite)."""
    server = SandpitServer()
    server.start()
    user = User(server)
    workspace = user.workspace()
    user.client.put(f"/api/workspaces/{workspace}/files/main.py", content=b"print(1)\n" * 1000)
    user.close()
    destination = public_tmp("sandpit-backup-") / "backup.tar"
    result = sandpit_cli(server.env, "backup", str(destination))
    assert result.returncode == 0, result.stderr
    yield destination, server
    server.close()


def _fresh_target() -> SandpitServer:
    target = SandpitServer()
    target.data_dir.mkdir(parents=True)
    return target


def _assert_left_empty(target: SandpitServer) -> None:
    assert sorted(p.name for p in target.data_dir.iterdir()) == []
    assert mounts_under(target.data_dir) == []
    assert not any(target.data_dir.parent.glob(".data.restore-*"))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip", "does not match its checksum"),
        ("truncate", "truncated"),
        ("drop-manifest", "no manifest"),
        ("newer", "from a newer version of Sandpit"),
    ],
)
def test_damaged_backup_is_refused_and_nothing_is_restored(
    small_backup: tuple[Path, SandpitServer], damage: str, reason: str, tmp_path: Path
) -> None:
    source, _ = small_backup
    raw = bytearray(source.read_bytes())
    manifest_at = raw.rfind(b"sandpit-backup/manifest.json")
    if damage == "flip":
        # A byte of main.py's content (the last file before settings and the manifest).
        at = raw.find(b"print(1)\nprint(1)")
        raw[at + 3] ^= 0x20
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "newer":
        # The manifest says a schema revision this code does not know (same length).
        found = re.search(rb'"schema_revision": "([^"]*)"', raw[manifest_at:])
        assert found is not None
        start = manifest_at + found.start(1)
        raw[start : start + len(found.group(1))] = b"9" * len(found.group(1))
    else:
        raw = raw[:manifest_at]
    damaged = tmp_path / "damaged.tar"
    damaged.write_bytes(bytes(raw))
    target = _fresh_target()
    try:
        result = sandpit_cli(target.env, "restore", str(damaged))
        assert result.returncode == 1
        assert reason in result.stderr, result.stderr
        assert result.stderr.startswith("sandpit: ")
        _assert_left_empty(target)
    finally:
        target.close()


def test_restore_refuses_a_target_that_is_not_empty(
    small_backup: tuple[Path, SandpitServer],
) -> None:
    source, server = small_backup
    result = sandpit_cli(server.env, "restore", str(source))
    assert result.returncode == 1
    assert "is not empty" in result.stderr, result.stderr


def test_backup_refuses_to_overwrite(small_backup: tuple[Path, SandpitServer]) -> None:
    source, server = small_backup
    result = sandpit_cli(server.env, "backup", str(source))
    assert result.returncode == 1
    assert "exists already" in result.stderr


def test_backup_leaves_the_secret_out_unless_asked(
    small_backup: tuple[Path, SandpitServer], tmp_path: Path
) -> None:
    import tarfile

    source, server = small_backup
    with tarfile.open(source) as tar:
        names = tar.getnames()
    assert "sandpit-backup/data/jwt_secret" not in names
    assert not [n for n in names if "images" in n or n.endswith("sandpit.db-wal")]
    with_secret = tmp_path / "with-secret.tar"
    result = sandpit_cli(server.env, "backup", "--include-secrets", str(with_secret))
    assert result.returncode == 0, result.stderr
    with tarfile.open(with_secret) as tar:
        assert "sandpit-backup/data/jwt_secret" in tar.getnames()
