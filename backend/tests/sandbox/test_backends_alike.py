"""Switching SANDBOX_BACKEND changes nothing a user sees: the same runs, side by side.

One real server per backend (bubblewrap and Docker); each program below runs
through the public API on both, and what a user gets back (status, exit code,
output, truncation, plots, files, sandbox limits) must be the same. Timings
and ids are left out: they differ by design.
"""

from __future__ import annotations

import errno
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import User
from tests.servers import SandpitServer

BACKENDS = ("bubblewrap", "docker")

PROGRAMS: dict[str, dict[str, Any]] = {
    "science and a plot": {
        "code": (
            "import numpy as np, pandas as pd, scipy.stats as st\n"
            "import matplotlib.pyplot as plt\n"
            "frame = pd.DataFrame({'x': np.arange(5)})\n"
            "print(frame['x'].sum(), round(st.norm.cdf(0), 3))\n"
            "plt.plot(frame['x'])\n"
            "plt.show()\n"
        )
    },
    "input": {"code": "name = input('name? ')\nprint('hello', name)\n", "stdin": "Ada\n"},
    "exit code and stderr": {
        "code": "import sys\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n"
    },
    "who and where": {
        "code": (
            "import os, sys\n"
            "print(os.getuid(), os.getgid(), os.getcwd(), os.environ['HOME'])\n"
            "print(sys.version_info[:2], sys.path[1])\n"
            "open('made-by-code.txt', 'w').write('x')\n"
        )
    },
    "timeout": {"code": "while True:\n    pass\n", "timeout_s": 1},
    "memory limit": {"code": "blocks = []\nwhile True:\n    blocks.append(bytearray(2**24))\n"},
    "output cap": {"code": "import sys\nsys.stdout.write('x' * (3 * 2**20))\n"},
    "no network": {
        "code": (
            "import socket\n"
            "try:\n"
            "    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
            "except OSError as exc:\n"
            "    print(type(exc).__name__, exc.errno)\n"
        )
    },
}


OK = {"status": "ok", "exit_code": 0, "stderr": "", "truncated": False, "message": None}
# What each program must give, pinned, not only the same on both backends.
EXPECTED: dict[str, dict[str, Any]] = {
    "science and a plot": {**OK, "stdout": "10 0.5\n", "plots": 1, "files": []},
    "input": {**OK, "stdout": "name? hello Ada\n", "files": []},
    "exit code and stderr": {
        "status": "error",
        "exit_code": 3,
        "stdout": "",
        "stderr": "to stderr\n",
        "message": None,
    },
    "who and where": {
        **OK,
        "stdout": "1000 1000 /app /app\n(3, 11) /app\n",
        "files": [("made-by-code.txt", "file", 1)],
    },
    "timeout": {
        "status": "timeout",
        "exit_code": None,
        "message": "The run passed its 1 s time limit and was stopped.",
    },
    "memory limit": {
        "status": "oom",
        "exit_code": None,
        "message": "The run used more memory than the sandbox allows and was stopped.",
    },
    "output cap": {
        "status": "ok",
        "exit_code": 0,
        "stdout": "x" * 2000,
        "stdout_length": 2**20,
        "truncated": True,
    },
    # No route out of the sandbox's own network namespace: ENETUNREACH, not a timeout.
    "no network": {**OK, "stdout": f"OSError {errno.ENETUNREACH}\n"},
}


@pytest.fixture(scope="module")
def users() -> Iterator[dict[str, User]]:
    """A signed-in user on a fresh server of each backend."""
    servers = {name: SandpitServer(sandbox_backend=name) for name in BACKENDS}
    signed_in: dict[str, User] = {}
    try:
        for name, server in servers.items():
            server.start()
            signed_in[name] = User(server)
        yield signed_in
    finally:
        for user in signed_in.values():
            user.close()
        for server in servers.values():
            server.close()


def what_a_user_sees(user: User, body: dict[str, Any]) -> dict[str, Any]:
    workspace = user.workspace(uuid.uuid4().hex[:12])
    response = user.client.post(
        f"/api/workspaces/{workspace}/runs", params={"wait": True}, json=body, timeout=120
    )
    assert response.status_code == 200, response.text
    run = response.json()
    files = user.client.get(f"/api/workspaces/{workspace}/files").json()
    # Ended after use: a user holds at most SANDBOXES_PER_USER (3) sandboxes at once.
    stopped = user.client.delete(f"/api/workspaces/{workspace}/sandbox")
    assert stopped.status_code == 204, stopped.text
    return {
        "status": run["status"],
        "exit_code": run["exit_code"],
        "stdout": run["stdout"][:2000],
        "stdout_length": len(run["stdout"]),
        "stderr": run["stderr"],
        "truncated": run["truncated"],
        "plots": len(run["images"]),
        "message": run["message"],
        "files": sorted((entry["path"], entry["kind"], entry["size"]) for entry in files),
    }


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_a_run_looks_the_same_on_both_backends(users: dict[str, User], name: str) -> None:
    seen = {backend: what_a_user_sees(user, PROGRAMS[name]) for backend, user in users.items()}
    assert seen["docker"] == seen["bubblewrap"]
    # And it is what the program should do: a bug both backends share fails here.
    expected = EXPECTED[name]
    assert {key: seen["docker"][key] for key in expected} == expected, seen["docker"]


def test_the_sandbox_reports_the_same_limits(users: dict[str, User]) -> None:
    limits = {}
    for backend, user in users.items():
        workspace = user.workspace("limits")
        user.client.post(
            f"/api/workspaces/{workspace}/runs", params={"wait": True}, json={"code": "pass"}
        )
        status = user.client.get(f"/api/workspaces/{workspace}/sandbox").json()
        assert status["running"] is True, status
        limits[backend] = {
            key: status[key] for key in ("memory_limit_bytes", "cpus", "pids_limit", "running")
        }
    assert (
        limits["docker"]
        == limits["bubblewrap"]
        == {
            "memory_limit_bytes": 512 * 2**20,
            "cpus": 1.0,
            "pids_limit": 50,
            "running": True,
        }
    )


def test_a_crashed_sandbox_reads_the_same(users: dict[str, User]) -> None:
    # The agent (pid 1) interrupted from inside: the sandbox ends. Polled all the while, its
    # status never fails (the engine can forget a container before the server
    # notices the end) and ends up saying why it ended.
    ended = {}
    for backend, user in users.items():
        workspace = user.workspace("crash")
        run = user.client.post(
            f"/api/workspaces/{workspace}/runs",
            params={"wait": True},
            json={"code": "import os, signal, time\nos.kill(1, signal.SIGINT)\ntime.sleep(30)\n"},
            timeout=60,
        )
        assert run.status_code == 200, run.text
        deadline = time.monotonic() + 15
        while True:
            response = user.client.get(f"/api/workspaces/{workspace}/sandbox")
            assert response.status_code == 200, response.text
            status = response.json()
            if not status["running"] or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        ended[backend] = (status["running"], status["last_end"], status["last_end_message"])
    assert (
        ended["docker"]
        == ended["bubblewrap"]
        == (False, "crashed", "The sandbox ended unexpectedly.")
    )
