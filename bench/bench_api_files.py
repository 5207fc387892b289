"""Latency of the file API through HTTP on a real server with SQLite (p50/p95, ms)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import measure, print_table, row
from tests.conftest import User
from tests.servers import SandpitServer


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = SandpitServer(Path(tmp) / "data")
        server.start()
        try:
            user = User(server)
            ws = user.workspace()
            url = f"/api/workspaces/{ws}/files"
            small = b"print('hello')\n" * 40
            large = b"x = 1\n" * 170_000  # ~1 MiB
            for i in range(200):
                user.client.put(f"{url}/many/f{i}.py", content=small)
            client = user.client
            rows = [
                row("GET /api/health", measure(lambda: client.get("/api/health"), 300)),
                row("GET /api/auth/me", measure(lambda: client.get("/api/auth/me"), 300)),
                row(
                    "PUT 600 B file", measure(lambda: client.put(f"{url}/a.py", content=small), 200)
                ),
                row("GET 600 B file", measure(lambda: client.get(f"{url}/a.py"), 300)),
                row(
                    "PUT 1 MiB file",
                    measure(lambda: client.put(f"{url}/big.txt", content=large), 30),
                ),
                row("GET 1 MiB file", measure(lambda: client.get(f"{url}/big.txt"), 50)),
                row("list 202 files", measure(lambda: client.get(url), 100)),
            ]
        finally:
            server.stop()
    print_table(("request", "n", "p50 ms", "p95 ms", "mean ms"), rows)
