"""Real servers for the tests: PostgreSQL and Sandpit itself, as subprocesses.

Nothing here is mocked: `PostgresServer` runs Debian's PostgreSQL from a
fresh data directory, and `SandpitServer` runs `python -m sandpit serve` on
a free port, exactly as `make run` does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from sandpit.config import REPO_DIR
from sandpit.sandbox import cgroups
from tests import workers

# Host uids per test server (its sandboxes, language servers and checks).
SERVER_UIDS = 1000


def public_tmp(prefix: str) -> Path:
    """A fresh directory the sandboxes' unprivileged host uids can traverse.

    pytest's tmp_path lives under a root-only (0700) directory; a sandbox
    started as an unprivileged uid could not reach a workspace there.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


class PostgresServer:
    """A throw-away PostgreSQL cluster listening on 127.0.0.1:<free port>."""

    def __init__(self, base: Path) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not binaries:
            raise RuntimeError("PostgreSQL is not installed; `make test` installs it.")
        self.bin = Path(binaries[-1]).parent
        self.base = base
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        # PostgreSQL refuses to run as root: use the `postgres` account then.
        self.account: dict[str, object] = (
            {"user": "postgres", "group": "postgres", "extra_groups": []}
            if os.geteuid() == 0
            else {}
        )

    def start(self) -> None:
        data = self.base / "pgdata"
        self.base.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            **self.account,  # type: ignore[call-overload]
        )
        self.process = subprocess.Popen(  # type: ignore[call-overload]
            [
                str(self.bin / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.base),
                "-c",
                "fsync=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **self.account,
        )
        wait_for(self._accepts, 30, "PostgreSQL to accept connections")

    def _accepts(self) -> bool:
        result = subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def create_database(self) -> str:
        """Create a fresh database and return its URL."""
        name = f"sandpit_{uuid.uuid4().hex[:12]}"
        subprocess.run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)


class SandpitServer:
    """`python -m sandpit serve` on a free port with its own data directory."""

    def __init__(self, database_url: str = "", **settings: str) -> None:
        self.data_dir = public_tmp("sandpit-test-") / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            # A clean environment: only what the server needs, nothing of ours.
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHON_SANDBOX_PATH": str(self.data_dir),
            # The runtime image `make test` built in the repository's data dir.
            "IMAGE_DATA_DIR": str(Path(os.environ.get("PYTHON_SANDBOX_PATH", REPO_DIR / "data"))),
            "DATABASE_URL": database_url,
            "PORT": str(self.port),
            "LOG_LEVEL": "warning",
            # A descriptor closed twice fails the test (see `close_checked`).
            # The guard walks the stack on every close (about 0.5 ms of a
            # warm run): benchmarks measure the server as deployed, without
            # it (bench/run.py sets SANDPIT_TEST_FD_GUARD=false).
            "FD_GUARD": os.environ.get("SANDPIT_TEST_FD_GUARD", "true"),
            # Servers run side by side in tests (and in several pytest-xdist
            # workers): each reaps "orphans" under its own cgroup root at
            # start, and needs host uids of its own; both follow from its port.
            "CGROUP_ROOT": f"sandpit-test-{self.port}",
            "SANDBOX_UID_BASE": str(workers.server_uid_base(self.port, SERVER_UIDS)),
            "SANDBOX_UID_COUNT": str(SERVER_UIDS),
            "SANDBOX_GID_BASE": str(workers.server_gid_base(self.port, SERVER_UIDS)),
            "SANDBOX_GID_COUNT": str(SERVER_UIDS),
            # Every test user signs up from 127.0.0.1; the sign-up limit per
            # address has its own tests, on servers that keep it low.
            "SIGNUPS_PER_ADDRESS": "1000000",
            # Tests make requests as fast as they can, many users from one
            # address; the request rate has its own tests
            # (tests/api/test_request_rate.py), on servers that keep it low.
            "USER_REQUESTS_PER_S": "100000",
            "USER_REQUEST_BURST": "100000",
            # Tests play the reverse proxy on this host: a test client speaks for
            # several client addresses with X-Forwarded-For (tests/api/test_accounts.py).
            # tests/ops/test_proxies.py shows the header ignored from anyone else.
            "TRUSTED_PROXIES": '["127.0.0.1"]',
            # No warm interpreter unless a suite asks for one (warm_interpreter="true"):
            # each one imports the scientific stack after a sandbox's first run,
            # about 1.2 CPU-seconds a sandbox, and the pass starts hundreds of
            # sandboxes on two cores (9 sandboxes: 1.5 s of sandbox CPU without,
            # 12.4 s with). The runs suite (tests/runs/conftest.py), the run
            # console's browser tests, the warm suites and the exploit folder's
            # warm variant run with it, as production does by default.
            "WARM_INTERPRETER": "false",
            **{key.upper(): value for key, value in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.data_dir / "server.log"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sandpit", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._healthy, 60, f"the server on port {self.port}")

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{self.log.read_text()}")
        try:
            return httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        remove_cgroup_root(self.env["CGROUP_ROOT"])

    def double_closes(self) -> str:
        """What the server's fd guard logged (empty when nothing was closed twice)."""
        if not self.log.exists():
            return ""
        text = self.log.read_text(errors="replace")
        start = text.find("fd guard:")
        return text[start : start + 6000] if start >= 0 else ""

    def close(self) -> None:
        """Stop the server and delete its data directory (and unmount what a crash left).

        Raises `AssertionError` if the server closed a descriptor twice.
        """
        self.stop()
        found = self.double_closes()
        for mount_point in mounts_under(self.data_dir):
            subprocess.run(["umount", "--lazy", str(mount_point)], check=False)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)
        assert not found, f"the server closed a descriptor it did not own:\n{found}"


def mounts_under(directory: Path) -> list[Path]:
    """Mount points at or below `directory`, deepest first."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        mount_point = Path(line.split()[4])
        if mount_point == directory or directory in mount_point.parents:
            found.append(mount_point)
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def remove_cgroup_root(name: str) -> None:
    """Remove a test server's cgroup root (every sandbox in it is killed first)."""
    with contextlib.suppress(cgroups.CgroupUnavailable, OSError, cgroups.CgroupError):
        cgroups.detect(name).remove_root()
