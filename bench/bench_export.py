"""Workspace export (issue 13 item 5): throughput and the server's peak memory.

A workspace of ~100 MB (200 files of 500 KiB: half random bytes, which do
not compress, half Python-like text, which does) is written straight into
its folder, then `GET /api/workspaces/{id}/export` is read to the end three
times, counting bytes as they arrive. Throughput is the workspace's size
over the time to the last byte. The server's resident memory (VmRSS of its
process, from /proc) is sampled every 10 ms during the exports; the table
gives it before, at its peak, and the difference: what streaming costs,
which must stay far below the workspace's size.

Usage: backend/.venv/bin/python bench/run.py export
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

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
        baseline = rss_bytes(pid)
        peak = baseline
        sampling = True

        def sample() -> None:
            nonlocal peak
            while sampling:
                peak = max(peak, rss_bytes(pid))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        rows = []
        try:
            for run in range(RUNS):
                received = 0
                start = time.perf_counter()
                with user.client.stream("GET", f"/api/workspaces/{ws}/export") as response:
                    response.raise_for_status()
                    for chunk in response.iter_raw():
                        received += len(chunk)
                seconds = time.perf_counter() - start
                rows.append(
                    (
                        f"export #{run + 1}",
                        f"{size / MiB:.1f}",
                        f"{received / MiB:.1f}",
                        f"{seconds:.2f}",
                        f"{size / MiB / seconds:.1f}",
                    )
                )
        finally:
            sampling = False
            sampler.join()
        print_table(("run", "workspace MiB", "zip MiB", "seconds", "MiB/s"), rows)
        print()
        print_table(
            ("server RSS before MiB", "peak MiB", "peak - before MiB"),
            [
                (
                    f"{baseline / MiB:.1f}",
                    f"{peak / MiB:.1f}",
                    f"{(peak - baseline) / MiB:.1f}",
                )
            ],
        )
        user.close()
    finally:
        server.close()
