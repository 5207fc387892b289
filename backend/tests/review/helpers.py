"""Helpers of the submission and review tests: roles, assignments, submissions."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import httpx

from tests.conftest import User
from tests.servers import SandpitServer

HIDDEN_TEST = (
    "import pytest\n"
    "from solution import add\n\n"
    "def test_secret_small():\n    assert add(1, 2) == 3\n\n"
    "@pytest.mark.points(2)\n"
    "def test_secret_negative():\n    assert add(-1, -2) == -3\n"
)
VISIBLE_TEST = "from solution import add\n\ndef test_given_zero():\n    assert add(0, 0) == 0\n"
STARTER = "def add(a, b):\n    raise NotImplementedError\n"
SOLVED = "def add(a, b):\n    return a + b\n"


def set_role(server: SandpitServer, user: User, role: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "sandpit", "user", "set-role", user.username, role],
        env=server.env,
        check=True,
        capture_output=True,
    )


def assignment_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Adding",
        "description": "Write **add**.",
        "starter": {"solution.py": STARTER},
        "tests": {"tests/test_hidden.py": HIDDEN_TEST},
        "visible_tests": {"tests/test_given.py": VISIBLE_TEST},
    }
    body.update(overrides)
    return body


def create_assignment(client: httpx.Client, **overrides: Any) -> dict[str, Any]:
    made = client.post("/api/assignments", json=assignment_body(**overrides))
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def start(client: httpx.Client, assignment_id: str) -> str:
    started = client.post(f"/api/assignments/{assignment_id}/start")
    assert started.status_code == 201, started.text
    workspace_id: str = started.json()["id"]
    return workspace_id


def write(client: httpx.Client, workspace_id: str, path: str, text: str) -> None:
    put = client.put(f"/api/workspaces/{workspace_id}/files/{path}", content=text.encode())
    assert put.status_code in (200, 201), put.text


def submit(client: httpx.Client, workspace_id: str, **body: Any) -> dict[str, Any]:
    made = client.post(
        f"/api/workspaces/{workspace_id}/submissions", json={"message": "done", **body}
    )
    assert made.status_code == 201, made.text
    found: dict[str, Any] = made.json()
    return found


def never_names_hidden(answer: httpx.Response) -> None:
    """Neither the hidden tests' file, their names nor their code is in the answer."""
    text = answer.text
    for secret in ("test_hidden", "test_secret_small", "test_secret_negative", "add(-1, -2)"):
        assert secret not in text, f"{secret!r} reached a student: {text[:2000]}"


def wait_for_checks(
    client: httpx.Client, submission_id: str, timeout: float = 120
) -> dict[str, Any]:
    """The submission once its checks are `done` or `error` (polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/api/submissions/{submission_id}")
        assert found.status_code == 200, found.text
        body: dict[str, Any] = found.json()
        if body["checks"]["status"] in ("done", "error"):
            return body
        assert time.monotonic() < deadline, f"checks still {body['checks']} after {timeout} s"
        time.sleep(0.2)
