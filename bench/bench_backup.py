"""Backup and restore figures (issue 18): time and size for a data directory of 500 workspaces.

A real server gets `WORKSPACES` workspaces (each on its own volume, as in
production), each with `FILES` files saved twice (so that file history, where
the server keeps it, has versions). Then, with the real command line:
- `sandpit backup` while the server runs (every volume mounted: frozen in turn);
- `sandpit backup` after the server stopped (every volume mounted privately);
- `sandpit restore` of the first into an empty data directory.
It prints the time, the archive's size and the files' bytes. Those 500 are
bound by the cost per workspace (a freeze, a private mount, a new volume);
the cost per GiB is measured apart: `BULK_WORKSPACES` workspaces holding
`BULK_MIB` MiB of incompressible data each (written by user code), backed up
(.tar) and restored. BENCH_WORKSPACES and BENCH_BULK_MIB override the sizes.
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
BULK_WORKSPACES = 8
BULK_MIB = int(os.environ.get("BENCH_BULK_MIB", "64"))


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


def _bulk() -> None:
    """Seconds per GiB: a few workspaces full of incompressible bytes."""
    server = SandpitServer()
    server.start()
    restored = SandpitServer()
    out = public_tmp("sandpit-bench-bulk-")
    try:
        user = User(server)
        chunk = BULK_MIB // 4
        code = (
            "import os\n"
            f"for i in range(4):\n    open(f'b{{i}}.bin', 'wb').write(os.urandom({chunk} << 20))\n"
        )
        for index in range(BULK_WORKSPACES):
            workspace = user.workspace(f"bulk{index}")
            made = user.client.post(
                f"/api/workspaces/{workspace}/runs",
                params={"wait": "true"},
                json={"code": code, "timeout_s": 120},
                timeout=180,
            )
            assert made.json()["status"] == "ok", made.text
        user.close()
        archive = out / "bulk.tar"
        backup_s = _cli(server.env, "backup", str(archive))
        restored.data_dir.mkdir(parents=True)
        restore_s = _cli(restored.env, "restore", str(archive))
        size = archive.stat().st_size
        print(f"\n{BULK_WORKSPACES} workspaces of {BULK_MIB} MiB of random bytes, server running\n")
        print_table(
            ("operation", "seconds", "archive MiB", "s per GiB"),
            [
                (name, f"{seconds:.1f}", f"{size / 2**20:.0f}", f"{seconds / (size / GiB):.0f}")
                for name, seconds in (("backup (.tar)", backup_s), ("restore", restore_s))
            ],
        )
    finally:
        restored.close()
        server.close()
        for path in out.iterdir():
            path.unlink()
        out.rmdir()


def main() -> None:
    if os.environ.get("BENCH_BACKUP_PART") != "bulk":
        _many()
    _bulk()


def _many() -> None:
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
            ("operation", "seconds", "archive MiB", "ms per workspace"),
            [
                (
                    name,
                    f"{seconds:.1f}",
                    f"{size / 2**20:.1f}",
                    f"{seconds * 1000 / WORKSPACES:.0f}",
                )
                for name, seconds, size in rows
            ],
        )
    finally:
        restored.close()
        server.close()
        for path in out.iterdir():
            path.unlink()
        out.rmdir()
