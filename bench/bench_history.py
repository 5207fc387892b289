"""History and snapshots on a real server with SQLite: storage and time.

1. Storage of 100 saves of a 10 KB file, each a small edit (one line changed),
   through the file API: how many versions, their bytes, and what the blob
   store holds on disk (contents are stored whole, once per distinct content).
2. Time to snapshot and to restore a workspace of 2,000 files (1 KB each):
   a first snapshot (every content new), a second one (every content already
   stored), a restore after every file changed, and a restore with nothing
   to change. The files are written straight into the workspace's folder, as
   a program in the sandbox would.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from common import print_table
from tests.conftest import User
from tests.servers import SandpitServer

SAVES = 100
FILE_LINES = 250  # about 10 KB
FILES = 2000


def _disk_bytes(root: Path) -> tuple[int, int]:
    """(files, bytes) stored under `root`."""
    sizes = [p.stat().st_size for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return len(sizes), sum(sizes)


def storage(server: SandpitServer, coalesce: str) -> tuple[str, ...]:
    user = User(server)
    ws = user.workspace()
    lines = [
        f"value_{i:04d} = {i * 7919 % 10007:>6}  # a line of the module\n"
        for i in range(FILE_LINES)
    ]
    before = _disk_bytes(server.data_dir / "blobs")
    logical = 0
    for save in range(SAVES):
        lines[save % FILE_LINES] = f"value_{save:04d} = {save:>6}  # edited in save {save}\n"
        body = "".join(lines).encode()
        logical += len(body)
        answer = user.client.put(f"/api/workspaces/{ws}/files/module.py", content=body)
        assert answer.is_success, answer.text
    versions = user.client.get(f"/api/workspaces/{ws}/history", params={"path": "module.py"}).json()
    after = _disk_bytes(server.data_dir / "blobs")
    stored = after[1] - before[1]
    user.close()
    return (
        f"coalescing {coalesce} s",
        str(SAVES),
        f"{logical / 1024:,.0f}",
        str(len(versions)),
        f"{sum(v['size'] for v in versions) / 1024:,.0f}",
        f"{stored / 1024:,.0f}",
    )


def _timed(action: object) -> float:
    assert callable(action)
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def snapshots(server: SandpitServer) -> list[tuple[str, str]]:
    user = User(server)
    ws = user.workspace()
    root = server.data_dir / "workspaces" / ws
    for i in range(FILES):
        folder = root / f"pkg{i // 100:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"m{i:04d}.py").write_bytes(f"# module {i}\n".encode().ljust(1024, b"x"))
    base = f"/api/workspaces/{ws}/snapshots"
    results: list[tuple[str, str]] = []
    first: dict[str, str] = {}

    def snap(label: str) -> None:
        answer = user.client.post(base, json={"label": label}, timeout=600)
        assert answer.status_code == 201, answer.text
        first.setdefault("id", answer.json()["id"])

    results.append((f"snapshot, {FILES} new files", f"{_timed(lambda: snap('one')):.2f}"))
    results.append(
        (
            f"snapshot, {FILES} files already stored",
            f"{_timed(lambda: snap('two')):.2f}",
        )
    )
    for path in root.rglob("*.py"):
        path.write_bytes(path.read_bytes().replace(b"x", b"y", 1))
        os.utime(path)

    def restore() -> None:
        answer = user.client.post(f"{base}/{first['id']}/restore", timeout=600)
        assert answer.status_code == 200, answer.text

    results.append((f"restore, {FILES} files changed", f"{_timed(restore):.2f}"))
    results.append(("restore, nothing changed", f"{_timed(restore):.2f}"))
    user.close()
    return results


def main() -> None:
    rows = []
    for coalesce in ("0", "5"):
        server = SandpitServer(history_coalesce_s=coalesce, workspace_volumes="false")
        server.start()
        try:
            rows.append(storage(server, coalesce))
        finally:
            server.close()
    print_table(
        (
            "100 saves of a 10 KB file",
            "saves",
            "KB saved",
            "versions",
            "KB in versions",
            "KB on disk",
        ),
        rows,
    )
    print()
    server = SandpitServer(workspace_volumes="false")
    server.start()
    try:
        timings = snapshots(server)
    finally:
        server.close()
    print_table(("workspace of 2,000 files (1 KB)", "seconds"), timings)


if __name__ == "__main__":
    main()
