"""Backup and restore figures (issue 18): time and size for a data directory of 500 workspaces.

A real server gets `WORKSPACES` workspaces (each on its own volume, as in
production), each with `FILES` files saved twice (so that file history, where
the server keeps it, has versions). Then, with the real command line:
- `sandpit backup` while the server runs (every volume mounted: frozen in turn);
- `sandpit backup` after the server stopped (every volume mounted privately);
- `sandpit restore` of the first into an empty data directory.
It prints the time, the archive's size, the files' bytes and the rate in
seconds per GiB of files. BENCH_WORKSPACES overrides the count.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import print_table
from tests.conftest import User
from tests.servers import SandpitServer, public_tmp

WORKSPACES = int(os.environ.get("BENCH_WORKSPACES", "500"))
FILES = 5
GiB = 1024**3


def _content(workspace: int, file: int, version: int) -> bytes:
    line = f"# workspace {workspace} file {file} version {version}\n"
    return (line + "x = [i * i for i in range(100)]\nprint(sum(x))\n" * (40 * (file + 1))).encode()


def _fill(server: SandpitServer) -> int:
    """Make the workspaces through the API; return the bytes of their files."""
    users = [User(server) for _ in range((WORKSPACES + 49) // 50)]
    total = 0

    def one(index: int) -> int:
        user = users[index // 50]
        workspace = user.workspace(f"ws{index}")
        written = 0
        for file in range(FILES):
            for version in range(2):
                body = _content(index, file, version)
                answer = user.client.put(
                    f"/api/workspaces/{workspace}/files/src/f{file}.py", content=body
                )
                assert answer.status_code in (200, 201), answer.text
            written += len(body)
        return written

    with ThreadPoolExecutor(4) as pool:
        total = sum(pool.map(one, range(WORKSPACES)))
    for user in users:
        user.close()
    return total


def _cli(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "sandpit", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return elapsed


def _members_bytes(archive: Path) -> int:
    with tarfile.open(archive) as tar:
        return sum(m.size for m in tar.getmembers() if m.isfile())


def main() -> None:
    server = SandpitServer(max_workspaces_per_user="100")
    server.start()
    restored = SandpitServer()
    out = public_tmp("sandpit-bench-backup-")
    try:
        start = time.perf_counter()
        files_bytes = _fill(server)
        fill_s = time.perf_counter() - start
        live = out / "live.tar.gz"
        live_s = _cli(server.env, "backup", str(live))
        server.stop()  # unmounts every volume
        idle = out / "idle.tar"
        idle_s = _cli(server.env, "backup", str(idle))
        restored.data_dir.mkdir(parents=True)
        restore_s = _cli(restored.env, "restore", str(live))
        content = _members_bytes(idle)
        rows = [
            ("backup, server running (.tar.gz)", live_s, live.stat().st_size),
            ("backup, server stopped (.tar)", idle_s, idle.stat().st_size),
            ("restore (of the .tar.gz)", restore_s, live.stat().st_size),
        ]
        print(
            f"{WORKSPACES} workspaces, {FILES} files each saved twice "
            f"({files_bytes / 2**20:.1f} MiB of current files; {content / 2**20:.1f} MiB "
            f"in the archive with the database); made in {fill_s:.0f} s\n"
        )
        print_table(
            ("operation", "seconds", "archive MiB", "s per GiB of content"),
            [
                (name, f"{seconds:.1f}", f"{size / 2**20:.1f}", f"{seconds / (content / GiB):.0f}")
                for name, seconds, size in rows
            ],
        )
        print(
            "\n(s per GiB here is dominated by the per-workspace cost — a freeze or a "
            "private mount and a volume per workspace — not by bytes; see the note.)"
        )
    finally:
        restored.close()
        server.close()
        for path in out.iterdir():
            path.unlink()
        out.rmdir()
