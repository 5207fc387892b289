"""What one student does, back to back: runs, file saves and terminal echo (issue 20).

Each Locust user signs up, signs in, creates a workspace, saves `main.py`,
opens a terminal and its WebSocket, then loops with no think time over:
- `run`: `POST /api/workspaces/{id}/runs?wait=true` running `main.py`
  (`print(1)`); a run whose status is not `ok` counts as a failure;
- `save`: `PUT /api/workspaces/{id}/files/main.py`;
- `echo`: a line typed into the terminal, timed until its echo comes back.
Started by `bench/bench_load.py`, which steps through the levels.
"""

from __future__ import annotations

import os
import time
import uuid

from locust import HttpUser, LoadTestShape, constant, events, task
from websockets.sync.client import ClientConnection, connect

PASSWORD = "load test password"  # noqa: S105 - throwaway accounts on a test server


class Student(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.username = f"load{uuid.uuid4().hex[:12]}"
        body = {"username": self.username, "password": PASSWORD}
        self.client.post("/api/auth/register", json=body, name="sign up")
        token = self.client.post("/api/auth/login", json=body, name="sign in").json()
        self.client.cookies.clear()
        self.client.headers["Authorization"] = f"Bearer {token['access_token']}"
        created = self.client.post("/api/workspaces", json={"name": "load"}, name="workspace")
        self.workspace = created.json()["id"]
        self.save()
        self.run_main()  # its sandbox starts now, not in the first level's figures
        terminal = self.client.post(
            f"/api/workspaces/{self.workspace}/terminals", name="terminal"
        ).json()
        url = self.host.replace("http", "ws", 1)
        self.socket: ClientConnection = connect(
            f"{url}/api/workspaces/{self.workspace}/terminals/{terminal['id']}/ws",
            additional_headers={"Authorization": self.client.headers["Authorization"]},
            open_timeout=30,
        )
        self.rendered = 0  # output bytes received, acknowledged as rendered (flow control)

    def on_stop(self) -> None:
        self.socket.close()

    @task(3)
    def run_main(self) -> None:
        with self.client.post(
            f"/api/workspaces/{self.workspace}/runs?wait=true",
            json={"path": "main.py"},
            name="run",
            catch_response=True,
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            elif answer.json().get("status") != "ok":
                answer.failure(f"run status {answer.json().get('status')}")

    @task(2)
    def save(self) -> None:
        self.client.put(
            f"/api/workspaces/{self.workspace}/files/main.py",
            data=b"print(1)\n",
            name="save",
        )

    @task(1)
    def echo(self) -> None:
        marker = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        failure: Exception | None = None
        try:
            self.socket.send(f"echo {marker}\r".encode())
            seen = b""
            deadline = time.monotonic() + 30
            # The shell echoes the typed line, then prints the marker alone.
            while seen.count(marker.encode()) < 2:
                if time.monotonic() > deadline:
                    raise TimeoutError("no echo within 30 s")
                frame = self.socket.recv(timeout=30)
                if isinstance(frame, bytes):
                    seen = (seen + frame)[-4096:]
                    self.rendered += len(frame)
                    self.socket.send(f'{{"type": "ack", "bytes": {self.rendered}}}')
        except Exception as exc:  # reported to Locust as this request's failure
            failure = exc
        events.request.fire(
            request_type="WS",
            name="echo",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=failure,
            context={},
        )


class Steps(LoadTestShape):
    """Hold each level of `LOAD_LEVELS` users for `LOAD_STEP_S` seconds, growing as a class does.

    Users who joined stay (their sandboxes warm); the next level adds users.
    """

    def __init__(self) -> None:
        super().__init__()
        self.levels = [int(n) for n in os.environ.get("LOAD_LEVELS", "1").split(",")]
        self.step_s = float(os.environ.get("LOAD_STEP_S", "30"))

    def tick(self) -> tuple[int, float] | None:
        step = int(self.get_run_time() // self.step_s)
        if step >= len(self.levels):
            return None
        users = self.levels[step]
        previous = self.levels[step - 1] if step else 0
        # Join over about two seconds, as a class does after "open the exercise".
        return users, max(1.0, (users - previous) / 2)
