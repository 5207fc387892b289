"""The service: its units, a stop that leaves nothing behind, start-up refusals, readiness.

The stop test is what systemd does on `systemctl stop` (SIGTERM to the
server, KillMode=mixed): a real server with a live sandbox, a terminal, a
background process and a run must exit by itself, leaving no process, no
mount and no cgroup.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from sandpit.config import REPO_DIR
from sandpit.db import migrate
from sandpit.db.engine import create_engine
from sandpit.ops import service
from sandpit.sandbox import cgroups
from tests.conftest import User
from tests.servers import PostgresServer, SandpitServer, mounts_under, wait_for
from tests.terminals.client import TerminalClient

UNITS_DIR = REPO_DIR / "deploy" / "systemd"


def test_units_name_the_checkout() -> None:
    units = service.render_units(Path("/srv/sp"), UNITS_DIR)
    main = units["sandpit.service"].splitlines()
    assert "ExecStart=/srv/sp/backend/.venv/bin/sandpit serve" in main
    assert "EnvironmentFile=-/srv/sp/backend/.env" in main
    assert "Restart=on-failure" in main
    assert "KillMode=mixed" in main
    assert "StandardError=journal" in main
    backup = units["sandpit-backup.service"].splitlines()
    assert (
        "ExecStart=/srv/sp/backend/.venv/bin/sandpit backup --keep 7 /var/backups/sandpit" in backup
    )
    assert not any("/opt/sandpit" in text for text in units.values())


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    for name, unit in service.render_units(REPO_DIR, UNITS_DIR).items():
        (tmp_path / name).write_text(unit)
    result = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / name) for name in service.UNITS)],
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 even for unknown keys; it reports them on stderr.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_install_without_systemd_says_how_to_run_in_the_foreground(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "SYSTEMD_RUNNING", tmp_path / "not-running")
    with pytest.raises(service.ServiceError, match="sandpit serve"):
        service.install(REPO_DIR, UNITS_DIR, tmp_path, start=True)
    assert list(tmp_path.iterdir()) == []


def _sandbox_processes(server: SandpitServer) -> list[int]:
    """Pids running as one of the server's sandbox uids."""
    base = int(server.env["SANDBOX_UID_BASE"])
    count = int(server.env["SANDBOX_UID_COUNT"])
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(
                line for line in status.read_text().splitlines() if line.startswith("Uid:")
            )
        except (OSError, StopIteration):
            continue
        if base <= int(uid_line.split()[1]) < base + count:
            found.append(int(status.parent.name))
    return found


def _describe(pid: int) -> str:
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()[:3]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        cgroup = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return "gone"
    return f"{status} {cmdline!r} {cgroup}"


def _containers(server: SandpitServer) -> list[str]:
    """Ids of the Docker containers this server made (running or not)."""
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "-aq",
            "--filter",
            f"label=org.sandpit.instance={server.env['CGROUP_ROOT']}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


@pytest.mark.parametrize("backend", ["bubblewrap", "docker"])
def test_sigterm_ends_every_sandbox_and_leaves_nothing_behind(backend: str) -> None:
    server = SandpitServer(sandbox_backend=backend)
    server.start()
    # What is left of the sandboxes: host processes of their uids (bubblewrap)
    # or containers (Docker, whose processes all run as host uid 1000).
    if backend == "docker":
        leftovers = lambda: _containers(server)  # noqa: E731
    else:
        leftovers = lambda: [str(pid) for pid in _sandbox_processes(server)]  # noqa: E731
    try:
        user = User(server)
        workspace = user.workspace()
        terminal_id = user.client.post(f"/api/workspaces/{workspace}/terminals").json()["id"]
        with TerminalClient(server, user.token, workspace, terminal_id) as terminal:
            terminal.read_until(r"\$ ")
            terminal.run("(sleep 1000 &) ; { nohup sleep 1001 >/dev/null 2>&1 & }")
            started = user.client.post(
                f"/api/workspaces/{workspace}/runs", json={"code": "import time; time.sleep(600)"}
            )
            assert started.status_code == 202, started.text
            if backend == "bubblewrap":
                wait_for(lambda: len(leftovers()) >= 4, 30, "the sandbox's processes")
            assert leftovers() != []
            assert mounts_under(server.data_dir) != []
            driver = cgroups.detect(server.env["CGROUP_ROOT"])
            assert driver.list_sandboxes() != []

            assert server.process is not None
            server.process.terminate()
            # uvicorn ends by re-raising the signal it caught, after its shutdown:
            # systemd counts death by SIGTERM as a clean stop (no restart).
            assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        user.close()
        # A sandbox's outer bwrap may still be a zombie for a moment: its exit
        # status passes to init (the server's parent under systemd), which reaps it.
        try:
            wait_for(lambda: not leftovers(), 10, "no sandbox left")
        except TimeoutError:
            left = leftovers()
            raise AssertionError(
                {pid: _describe(int(pid)) for pid in left if pid.isdigit()} or left
            ) from None
        assert mounts_under(server.data_dir) == []
        assert driver.list_sandboxes() == []
    finally:
        server.close()


def test_a_database_newer_than_the_server_is_refused_at_start() -> None:
    server = SandpitServer()
    server.data_dir.mkdir(parents=True)
    url = f"sqlite:///{server.data_dir / 'sandpit.db'}"

    async def from_the_future() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        await engine.dispose()

    asyncio.run(from_the_future())
    try:
        with pytest.raises(RuntimeError, match="exited early") as failed:
            server.start()
        assert "refusing to start: The database is at schema revision '9999'" in str(failed.value)
        assert server.process is not None
        assert server.process.returncode != 0
    finally:
        server.close()


def test_ready_says_what_is_wrong(tmp_path: Path) -> None:
    fine = SandpitServer()
    fine.start()
    try:
        answer = httpx.get(f"{fine.url}/api/ready", timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ready"
        assert {c["name"]: c["ok"] for c in answer.json()["checks"]} == {
            "database": True,
            "image": True,
            "cgroups": True,
            "disk": True,
        }
    finally:
        fine.close()

    empty_images = tmp_path / "no-image"
    empty_images.mkdir()
    broken = SandpitServer(image_data_dir=str(empty_images), ready_min_free_disk_mb="100000000")
    broken.start()
    try:
        assert httpx.get(f"{broken.url}/api/health", timeout=10).json() == {"status": "ok"}
        answer = httpx.get(f"{broken.url}/api/ready", timeout=10)
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "not_ready"
        failing = {c["name"] for c in body["checks"] if not c["ok"]}
        assert failing == {"image", "disk"}
        assert "runtime image is not built" in body["detail"]
        assert "nearly full" in body["detail"]
    finally:
        broken.close()


@pytest.mark.postgres
def test_ready_says_when_the_database_is_unreachable() -> None:
    database = PostgresServer(Path(tempfile.mkdtemp(prefix="sandpit-pg-ready-")))
    database.start()
    server = SandpitServer(database.create_database())
    try:
        server.start()
        assert httpx.get(f"{server.url}/api/ready", timeout=10).status_code == 200
        database.stop()
        answer = httpx.get(f"{server.url}/api/ready", timeout=10)
        assert answer.status_code == 503
        assert "database is unreachable" in answer.json()["detail"]
        # Liveness does not touch the database: the process still serves.
        assert httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200
    finally:
        server.close()
        database.stop()
