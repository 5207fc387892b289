"""Latency through the reverse proxies (issue 18): nginx and Caddy beside the server direct.

One real server; nginx and Caddy in front of it with the configurations in
deploy/ (and a self-signed certificate, as the tests do). For each path:
- terminal echo: one keystroke at a bash prompt until its echo is back
  (`ECHOES` of them, over ws:// direct and wss:// through a proxy);
- run stream: an interactive run echoes each line of input; the time from
  sending a line (`POST /api/runs/{id}/stdin`) until it comes back as an
  output event on the run's server-sent event stream (`LINES` of them).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from common import percentile, print_table
from tests.conftest import User
from tests.ops.proxies import running_proxy
from tests.runs.events import RunEvents, follow
from tests.servers import SandpitServer
from tests.terminals.client import TerminalClient

ECHOES = 500
LINES = 200
ECHO_PROGRAM = "while True:\n    print(input(), flush=True)\n"


class Direct:
    def __init__(self, server: SandpitServer) -> None:
        self.url = server.url
        self.tls: ssl.SSLContext | None = None

    def client(self, **options: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **options)  # type: ignore[arg-type]


def _echo_ms(target: Direct, user: User) -> list[float]:
    with target.client(headers={"Authorization": f"Bearer {user.token}"}) as client:
        workspace = client.post("/api/workspaces", json={"name": "echo"}).json()["id"]
        terminal_id = client.post(f"/api/workspaces/{workspace}/terminals").json()["id"]
    samples = []
    with TerminalClient(target, user.token, workspace, terminal_id, ssl=target.tls) as shell:
        shell.read_until(r"\$ ")
        for n in range(ECHOES + 20):
            key = "abcdefghij"[n % 10]
            start = time.perf_counter()
            shell.send(key)
            shell.read_until(key)
            if n >= 20:  # warm-up
                samples.append((time.perf_counter() - start) * 1000)
        shell.send("\x03")
    return samples


@contextmanager
def _echo_run(client: httpx.Client) -> Iterator[tuple[str, RunEvents]]:
    workspace = client.post("/api/workspaces", json={"name": "stream"}).json()["id"]
    started = client.post(
        f"/api/workspaces/{workspace}/runs",
        json={"code": ECHO_PROGRAM, "interactive": True, "timeout_s": 300},
    )
    run_id = started.json()["id"]
    with follow(client, run_id) as events:
        yield run_id, events
    client.post(f"/api/runs/{run_id}/stop")


def _stream_ms(target: Direct, user: User) -> list[float]:
    samples: list[float] = []
    with (
        target.client(headers={"Authorization": f"Bearer {user.token}"}) as client,
        _echo_run(client) as (run_id, events),
    ):
        for n in range(LINES + 10):
            line = f"line-{n}"
            start = time.perf_counter()
            client.post(f"/api/runs/{run_id}/stdin", json={"text": line + "\n"})
            events.read_until(
                lambda e, line=line: (
                    e["type"] == "output" and e["stream"] == "stdout" and line in e["text"]
                )
            )
            if n >= 10:
                samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    server = SandpitServer(trusted_proxies='["127.0.0.1"]', runs_per_minute="100000")
    server.start()
    rows = []
    try:
        with ExitStack() as stack:
            targets: list[tuple[str, Direct]] = [("direct", Direct(server))]
            for kind in ("nginx", "caddy"):
                proxy = stack.enter_context(running_proxy(kind, server.port))
                targets.append((kind, proxy))  # type: ignore[arg-type]
            for name, target in targets:
                # A user per path: each has its own sandboxes and their caps.
                user = User(server)
                echo = _echo_ms(target, user)
                stream = _stream_ms(target, user)
                user.close()
                rows.append(
                    (
                        name,
                        f"{percentile(echo, 50):.2f}",
                        f"{percentile(echo, 99):.2f}",
                        f"{percentile(stream, 50):.2f}",
                        f"{percentile(stream, 99):.2f}",
                    )
                )
    finally:
        server.close()
    print_table(
        ("path", "echo p50 ms", "echo p99 ms", "run stream p50 ms", "run stream p99 ms"), rows
    )
