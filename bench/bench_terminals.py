"""Terminal figures (issue 4), ours beside jupyter_server's terminals (terminado), one run.

- echo latency: one keystroke at a bash prompt until its echo is back
  (1000 of them), with 1 active terminal and with 100 (the other 99 each
  print a line every half second, and their clients read and acknowledge it);
- throughput: 100 MB of output (100-byte lines) through one terminal, the
  client acknowledging as it reads (terminado has no acks).
Both are driven by the same asyncio WebSocket client. terminado comes from a
separate environment (never backend/.venv): set TERMINADO_VENV, default
/tmp/terminado-venv, made with
`python3 -m venv /tmp/terminado-venv && /tmp/terminado-venv/bin/pip install
jupyter_server jupyter_server_terminals`. Without it, only ours is measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import percentile, print_table
from tests.conftest import User
from tests.servers import SandpitServer, free_port, wait_for
from websockets.asyncio.client import ClientConnection, connect

ECHOES = 1000
BACKGROUND = 99
THROUGHPUT_BYTES = 100_000_000
FLOOD = f"yes {'y' * 99} | head -c {THROUGHPUT_BYTES}"
PROMPT = re.compile(rb"[$#] $")  # "#" where terminado runs as root
ACK_EVERY = 32 * 1024


class Terminal:
    """One WebSocket terminal; subclasses speak each server's protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.buffer = bytearray()
        self.received = 0

    async def send(self, text: str) -> None:
        raise NotImplementedError

    async def chunk(self) -> bytes:
        raise NotImplementedError

    async def read_until(self, pattern: re.Pattern[bytes], keep: bool = False) -> None:
        while True:
            match = pattern.search(self.buffer)
            if match:
                if not keep:
                    del self.buffer[: match.end()]
                return
            self.buffer += await self.chunk()
            # Floods: keep only a tail to search in.
            if len(self.buffer) > 1 << 20:
                del self.buffer[: -(1 << 16)]

    async def drain(self, quiet: float) -> None:
        try:
            while True:
                await asyncio.wait_for(self.chunk(), quiet)
        except TimeoutError:
            self.buffer.clear()

    async def consume_forever(self) -> None:
        while True:
            await self.chunk()


class Sandpit(Terminal):
    def __init__(self, ws: ClientConnection) -> None:
        super().__init__(ws)
        self.acked = 0

    async def send(self, text: str) -> None:
        await self.ws.send(text.encode())

    async def chunk(self) -> bytes:
        while True:
            frame = await self.ws.recv()
            if isinstance(frame, bytes):
                self.received += len(frame)
                if self.received - self.acked >= ACK_EVERY or len(frame) < ACK_EVERY:
                    self.acked = self.received
                    await self.ws.send(json.dumps({"type": "ack", "bytes": self.received}))
                return frame


class Terminado(Terminal):
    async def send(self, text: str) -> None:
        await self.ws.send(json.dumps(["stdin", text]))

    async def chunk(self) -> bytes:
        while True:
            message = json.loads(await self.ws.recv())
            if message[0] == "stdout":
                data: bytes = message[1].encode()
                self.received += len(data)
                return data


class Backend:
    name = ""

    async def open(self, index: int) -> Terminal:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SandpitBackend(Backend):
    name = "sandpit (sandbox)"

    def __init__(self, compression: str | None) -> None:
        self.compression = compression
        if compression:
            self.name += ", deflate"
        self.server = SandpitServer(terminals_per_workspace="10")
        self.server.start()
        self.users: list[tuple[User, str]] = []

    async def open(self, index: int) -> Terminal:
        # Ten terminals per workspace, one workspace per user: the per-user
        # creation rate and the per-workspace cap are for people, not benchmarks.
        if index % 10 == 0:
            user = User(self.server)
            self.users.append((user, user.workspace(f"bench{index}")))
        user, workspace = self.users[-1]
        created = user.client.post(f"/api/workspaces/{workspace}/terminals")
        created.raise_for_status()
        url = self.server.url.replace("http", "ws", 1)
        ws = await connect(
            f"{url}/api/workspaces/{workspace}/terminals/{created.json()['id']}/ws",
            additional_headers={"Authorization": f"Bearer {user.token}"},
            compression=self.compression,
            max_size=None,
            proxy=None,
        )
        return Sandpit(ws)

    def close(self) -> None:
        for user, _ in self.users:
            user.close()
        self.server.close()


class TerminadoBackend(Backend):
    name = "jupyter_server + terminado (host, no sandbox)"

    def __init__(self, venv: Path) -> None:
        self.port = free_port()
        self.token = "bench-token"  # noqa: S105 - a throw-away local server
        self.root = Path(tempfile.mkdtemp(prefix="terminado-bench-"))
        self.log = open(self.root / "server.log", "wb")  # noqa: SIM115
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.root),
            "SHELL": "/bin/bash",
        }
        self.process = subprocess.Popen(
            [
                str(venv / "bin" / "jupyter"), "server", "--no-browser", f"--port={self.port}",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                "--ServerApp.terminado_settings={'shell_command': ['/bin/bash', '-l']}",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        headers = {"Authorization": f"token {self.token}"}
        self.http = httpx.Client(base_url=self.base, headers=headers, timeout=30)
        wait_for(self._up, 60, "jupyter server")

    def _up(self) -> bool:
        try:
            return self.http.get("/api/status").status_code == 200
        except httpx.TransportError:
            return False

    async def open(self, index: int) -> Terminal:
        name = self.http.post("/api/terminals").json()["name"]
        ws = await connect(
            f"ws://127.0.0.1:{self.port}/terminals/websocket/{name}?token={self.token}",
            max_size=None,
            proxy=None,
        )
        return Terminado(ws)

    def close(self) -> None:
        self.http.close()
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


async def echo_latency(term: Terminal) -> list[float]:
    await term.send("\r")
    await term.read_until(PROMPT)
    await term.drain(0.3)
    samples = []
    for i in range(ECHOES):
        start = time.perf_counter()
        await term.send("x")
        await term.read_until(re.compile(b"x"))
        samples.append((time.perf_counter() - start) * 1000)
        if i % 50 == 49:
            await term.send("\x15")  # Ctrl+U: clear the line, untimed
            await term.drain(0.05)
    await term.send("\x15")
    await term.drain(0.1)
    return samples


async def throughput(term: Terminal) -> float:
    await term.send(f"{FLOOD}; echo flood-''done\r")
    await term.read_until(re.compile(b"flood-''done"))  # the echoed command line
    start = time.perf_counter()
    before = term.received
    await term.read_until(re.compile(b"\r\nflood-done"))
    elapsed = time.perf_counter() - start
    assert term.received - before >= THROUGHPUT_BYTES
    return THROUGHPUT_BYTES / elapsed / 1e6


async def measure(backend: Backend) -> dict[str, Any]:
    main = await backend.open(0)
    await main.read_until(PROMPT)
    one = await echo_latency(main)
    mbps = await throughput(main)
    await main.drain(0.5)
    others = [await backend.open(i) for i in range(1, BACKGROUND + 1)]
    for term in others:
        # A line every half second; `read -t` waits without forking a `sleep`.
        await term.send("while :; do echo tick $RANDOM; read -t 0.5 x; done\r")
    readers = [asyncio.create_task(t.consume_forever()) for t in others]
    await asyncio.sleep(3)
    hundred = await echo_latency(main)
    # Close while still reading: a client that stops reading never sees the close reply.
    main_reader = asyncio.create_task(main.consume_forever())
    await asyncio.gather(*(t.ws.close() for t in [main, *others]))
    for task in [*readers, main_reader]:
        task.cancel()
    await asyncio.gather(*readers, main_reader, return_exceptions=True)
    return {"one": one, "hundred": hundred, "mbps": mbps}


def run(backend_factory: Any) -> dict[str, Any] | None:
    backend = backend_factory()
    try:
        return asyncio.run(asyncio.wait_for(measure(backend), 900))
    finally:
        backend.close()


def main() -> None:
    results: list[tuple[str, dict[str, Any]]] = []
    results.append((f"{SandpitBackend.name}", run(lambda: SandpitBackend(None)) or {}))
    deflate = SandpitBackend.name + ", deflate"
    results.append((deflate, run(lambda: SandpitBackend("deflate")) or {}))
    venv = Path(os.environ.get("TERMINADO_VENV", "/tmp/terminado-venv"))
    if (venv / "bin" / "jupyter").exists():
        try:
            results.append((TerminadoBackend.name, run(lambda: TerminadoBackend(venv)) or {}))
        except Exception as exc:  # ours is still worth printing
            print(f"(terminado could not be measured: {exc!r})")
    else:
        print(f"(terminado not measured: no {venv}/bin/jupyter; see this module's docstring)")
    rows = []
    for name, r in results:
        rows.append(
            (
                name,
                f"{percentile(r['one'], 50):.2f}",
                f"{percentile(r['one'], 99):.2f}",
                f"{percentile(r['hundred'], 50):.2f}",
                f"{percentile(r['hundred'], 99):.2f}",
                f"{r['mbps']:.1f}",
            )
        )
    print_table(
        ("server", "echo p50 ms (1)", "echo p99 ms (1)", "p50 ms (100)", "p99 ms (100)", "MB/s"),
        rows,
    )
