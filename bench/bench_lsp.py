"""Language-server figures (issue 16), through the real WebSocket and sandbox.

- first completion after opening a file (a fresh session: sandbox start,
  pyrefly indexing numpy and pandas, the answer);
- keystroke to completion list, warm, typing on in a name: a `didChange`
  with one more (or one fewer) character of `np.ar`, then the completion
  request, until the answer (`REPEAT` times): p50, p95;
- keystroke to completion list, warm, after a `.`: a `didChange` that types
  the `.` of a new `np.` (the server must check the changed file before it
  answers): p50, p95;
- the same completion asked again with no change (the server's answer for
  a checked file plus the transport), and the answers' sizes in JSON;
- diagnostics after typing stops: a `didChange` introducing a new undefined
  name until the published diagnostics name it;
- memory of the language servers' sandbox with numpy, pandas and matplotlib
  in use (imported, and members of `np.`, a DataFrame, a column and `plt.`
  completed): its cgroup's memory.current, and the servers' RSS.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from common import percentile, print_table
from lsp_probe import LspProbe
from tests.conftest import User
from tests.servers import SandpitServer
from websockets.asyncio.client import connect

REPEAT = 50
DIAGNOSTICS = 10
HEADER = """import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import helpers

df = pd.read_csv("data.csv")
plt.plot(df["a"])
"""


def server_pid(name: str, server: SandpitServer) -> int | None:
    """The pid of the test server's language server `name` (by its cgroup path)."""
    mine = f"sandpit-test-{server.port}"
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cgroup = (entry / "cgroup").read_text()
        except OSError:
            continue
        if argv and argv[0].endswith(name.encode()) and mine in cgroup and "lsp-" in cgroup:
            return int(entry.name)
    return None


def sandbox_memory(server: SandpitServer) -> int | None:
    """The memory charged to the cgroup holding the `lsp-main` leaf (cgroup v2 or v1)."""
    mine = f"sandpit-test-{server.port}"
    for top, dirs, _ in os.walk("/sys/fs/cgroup"):
        if Path(top).name == mine:
            for leaf in Path(top).glob("**/lsp-main"):
                relative = leaf.parent.relative_to(top)
                for candidate in (
                    leaf.parent / "memory.current",
                    Path("/sys/fs/cgroup/memory", *Path(top).parts[5:], relative)
                    / "memory.usage_in_bytes",
                ):
                    if candidate.is_file():
                        return int(candidate.read_text())
            dirs.clear()
        if top.count("/") > 6:
            dirs.clear()
    return None


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Editor:
    """One document in a probe's session, changed one version at a time."""

    def __init__(self, probe: LspProbe, uri: str) -> None:
        self.probe = probe
        self.uri = uri
        self.version = 1
        self.line = HEADER.count("\n")

    async def complete(self, typed: str) -> tuple[float, list[str]]:
        """Type `typed` on the last line, then ask for completion at its end: seconds, labels."""
        self.version += 1
        began = time.monotonic()
        await self.probe.change(self.uri, HEADER + typed, self.version)
        labels = await self.probe.completion_labels(self.uri, self.line, len(typed))
        return time.monotonic() - began, labels

    async def ask_again(self, typed: str) -> float:
        began = time.monotonic()
        await self.probe.completion_labels(self.uri, self.line, len(typed))
        return time.monotonic() - began

    async def answer_size(self, typed: str) -> int:
        """Bytes of JSON in the completion answer at the end of `typed` (as it stands)."""
        answer = await self.probe.at("textDocument/completion", self.uri, self.line, len(typed))
        return len(json.dumps(answer))

    async def diagnosed(self, name: str) -> float:
        """Seconds from a change using the undefined `name` to its diagnostic."""
        self.version += 1
        began = time.monotonic()
        await self.probe.change(self.uri, HEADER + f"print({name})\n", self.version)
        probe = self.probe
        while not any(name in d.get("message", "") for d in probe.diagnostics.get(self.uri, [])):
            probe.diagnostics_changed.clear()
            await asyncio.wait_for(probe.diagnostics_changed.wait(), 60)
        return time.monotonic() - began


async def measure(server: SandpitServer, user: User, workspace: str) -> list[tuple[str, ...]]:
    url = server.url.replace("http://", "ws://") + f"/api/workspaces/{workspace}/lsp"
    headers = {"Authorization": f"Bearer {user.token}"}
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        probe = LspProbe(lambda body: ws.send(body.decode()))

        async def pump() -> None:
            async for frame in ws:
                await probe.receive(frame if isinstance(frame, bytes) else frame.encode())

        reader = asyncio.create_task(pump())
        began = time.monotonic()
        await probe.initialize("file:///app")
        editor = Editor(probe, "file:///app/main.py")
        await probe.open(editor.uri, HEADER + "a = np.ar")
        labels = await probe.completion_labels(editor.uri, editor.line, len("a = np.ar"))
        first = time.monotonic() - began
        assert "arange" in labels, labels[:10]

        warm = [(await editor.complete(("a = np.a", "a = np.ar")[i % 2]))[0] for i in range(REPEAT)]
        sizes = [await editor.answer_size("a = np.ar")]
        unchanged = [await editor.ask_again("a = np.ar") for _ in range(REPEAT // 2)]
        dotted: list[float] = []
        for i in range(REPEAT // 2):
            seconds, labels = await editor.complete(f"v{i} = np.")
            assert "arange" in labels, labels[:10]
            dotted.append(seconds)
        sizes.append(await editor.answer_size(f"v{REPEAT // 2 - 1} = np."))
        diagnostics = [await editor.diagnosed(f"undefined_{i}") for i in range(DIAGNOSTICS)]

        # pandas and matplotlib in use too: their members asked for, as numpy's were.
        for typed, wanted in (("df.", "head"), ("plt.", "plot"), ('df["a"].', "mean")):
            labels = (await editor.complete(typed))[1]
            assert wanted in labels, labels[:10]
        memory_rows = memory(server)
        reader.cancel()

    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731
    in_a_name = "keystroke to completion, warm, in a name (np.a/np.ar)"
    after_dot = "keystroke to completion, warm, after a `.` (np.)"
    return [
        ("first completion after open (cold session)", ms(first)),
        (f"{in_a_name}, p50", ms(percentile(warm, 50))),
        (f"{in_a_name}, p95", ms(percentile(warm, 95))),
        (f"{after_dot}, p50", ms(percentile(dotted, 50))),
        (f"{after_dot}, p95", ms(percentile(dotted, 95))),
        ("completion asked again, no change, p50", ms(percentile(unchanged, 50))),
        ("answer size, `np.ar` / `np.`", f"{sizes[0]:,} / {sizes[1]:,} B"),
        ("diagnostics after typing stops, p50", ms(percentile(diagnostics, 50))),
        ("diagnostics after typing stops, max", ms(max(diagnostics))),
        *memory_rows,
    ]


def memory(server: SandpitServer) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    main = server_pid("pyrefly", server)
    ruff = server_pid("ruff", server)
    current = sandbox_memory(server)
    if main is not None and ruff is not None:
        rows = [
            ("pyrefly RSS", f"{rss(main) / 2**20:.0f} MiB"),
            ("ruff server RSS", f"{rss(ruff) / 2**20:.0f} MiB"),
        ]
    if current is not None:
        rows.append(("their sandbox, memory.current", f"{current / 2**20:.0f} MiB"))
    return rows


def main() -> None:
    server = SandpitServer()
    server.start()
    try:
        user = User(server)
        workspace = user.workspace()
        files = {
            "helpers.py": "def greet(name: str) -> str:\n    return name\n",
            "data.csv": "a,b\n1,2\n",
        }
        for path, text in files.items():
            user.client.put(f"/api/workspaces/{workspace}/files/{path}", content=text)
        rows = asyncio.run(measure(server, user, workspace))
        rows.append(
            (
                "user's program: its own sandbox's limit, untouched",
                "SANDBOX_MEMORY_MB (512 MiB)",
            )
        )
        print_table(("figure", "value"), rows)
    finally:
        server.close()


if __name__ == "__main__":
    main()  # through bench/run.py lsp, which puts backend/ on the path
