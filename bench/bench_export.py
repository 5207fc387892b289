"""Workspace and snapshot export (issue 13 item 5): throughput and the server's peak memory.

A workspace of ~100 MB (200 files of 500 KiB: half random bytes, which do
not compress, half Python-like text, which does) is written straight into
its folder, then `GET /api/workspaces/{id}/export` is read to the end three
times, counting bytes as they arrive; then a snapshot of it is taken and
`GET .../snapshots/{sid}/export` (streamed from the blobs) is read the same
way. Throughput is the files' size over the time to the last byte. The
server's resident memory (VmRSS of its process, from /proc) is sampled
every 10 ms during each kind of export; the table gives it before, at its
peak, and the difference: what streaming costs, which must stay far below
the workspace's size.

Usage: backend/.venv/bin/python bench/run.py export
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Self

from common import print_table
from tests.conftest import User
from tests.servers import SandpitServer

FILES = 200
FILE_BYTES = 500 * 1024
RUNS = 3
MiB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def fill(folder: Path) -> int:
    """Write the workspace's files; answers their total size."""
    text = b"".join(
        f"value_{i} = compute({i}, scale=0.5)  # step {i}\n".encode() for i in range(20_000)
    )
    total = 0
    for index in range(FILES):
        data = os.urandom(FILE_BYTES) if index % 2 == 0 else text[:FILE_BYTES]
        path = folder / f"part{index // 50}" / f"file{index}.{'bin' if index % 2 == 0 else 'py'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
    return total


class Sampler:
    """The peak of a process's resident memory while the `with` block runs (every 10 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = self.peak = rss_bytes(pid)
        self._running = False
        self._thread = threading.Thread(target=self._sample)

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> Self:
        self._running = True
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._running = False
        self._thread.join()


def exports(user: User, name: str, url: str, size: int) -> list[tuple[str, ...]]:
    """Read `url` to the end `RUNS` times; a table row per run."""
    rows = []
    for run in range(RUNS):
        received = 0
        start = time.perf_counter()
        with user.client.stream("GET", url) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                received += len(chunk)
        seconds = time.perf_counter() - start
        rows.append(
            (
                f"{name} #{run + 1}",
                f"{size / MiB:.1f}",
                f"{received / MiB:.1f}",
                f"{seconds:.2f}",
                f"{size / MiB / seconds:.1f}",
            )
        )
    return rows


def main() -> None:
    # No loop-mounted volume (so the files can be written directly) and room for them.
    server = SandpitServer(workspace_volumes="false", workspace_quota_bytes=str(200 * MiB))
    server.start()
    try:
        assert server.process is not None
        pid = server.process.pid
        user = User(server)
        ws = user.workspace("bench")
        size = fill(server.data_dir / "workspaces" / ws)
        rows = []
        memory = []
        with Sampler(pid) as sampler:
            rows += exports(user, "workspace export", f"/api/workspaces/{ws}/export", size)
        memory.append(("workspace export", sampler))
        # The same files as a snapshot, exported from their blobs. Taking the
        # snapshot is outside the measure (it reads the workspace whole).
        made = user.client.post(f"/api/workspaces/{ws}/snapshots", json={"label": "bench"})
        made.raise_for_status()
        assert made.json()["bytes"] == size, made.json()
        url = f"/api/workspaces/{ws}/snapshots/{made.json()['id']}/export"
        with Sampler(pid) as sampler:
            rows += exports(user, "snapshot export", url, size)
        memory.append(("snapshot export", sampler))
        print_table(("run", "files MiB", "zip MiB", "seconds", "MiB/s"), rows)
        print()
        print_table(
            ("exports", "server RSS before MiB", "peak MiB", "peak - before MiB"),
            [
                (
                    name,
                    f"{s.before / MiB:.1f}",
                    f"{s.peak / MiB:.1f}",
                    f"{(s.peak - s.before) / MiB:.1f}",
                )
                for name, s in memory
            ],
        )
        user.close()
    finally:
        server.close()
