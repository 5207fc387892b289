"""Memory of idle sandboxes and of a typical one, measured, for sizing a host (issue 12).

One server (bubblewrap, the default limits, the per-user caps lifted for the
measurement) starts COUNT sandboxes (default 100), each by opening and
closing a terminal (no Python run), and leaves them idle. Then WARM_COUNT
more (default 10), each by one run of `pass`, which leaves the sandbox's
warm interpreter (numpy, pandas, scipy, matplotlib imported) waiting for the
next run. Each kind is measured by the difference it made, all up:
- the cgroup root of every sandbox: what admission counts (anonymous plus
  tmpfs memory, `memory_in_use`) and the whole charge (page cache included);
- the host: MemAvailable before and after (kernel objects, bubblewrap and
  agent processes, page tables: everything a sandbox costs the host);
- the server's own RSS before and after.
And one typical sandbox: a run that imports numpy, pandas and matplotlib,
builds a 100 000-row frame and draws a plot, measured at its end (the
sandbox's cgroup, as `GET .../sandbox` reports it) and at its peak.

Usage: backend/.venv/bin/python bench/run.py sandbox_memory
       (from the environment: SANDBOX_MEMORY_COUNT=100, SANDBOX_MEMORY_WARM_COUNT=10)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import print_table
from tests.conftest import User
from tests.servers import SandpitServer

MiB = 2**20
IDLE_PER_USER = 20
TYPICAL = """
import numpy as np, pandas as pd, matplotlib
import matplotlib.pyplot as plt
frame = pd.DataFrame({"x": np.arange(100_000), "y": np.random.default_rng(1).normal(size=100_000)})
summary = frame.groupby(frame.x % 10).y.mean()
plt.plot(summary.index, summary.values)
plt.show()
print("ready", flush=True)
import time; time.sleep(8)
"""


def mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def root_memory(server: SandpitServer) -> tuple[int, int]:
    """(anonymous + tmpfs, whole charge) of the server's cgroup root (v1 or v2)."""
    root = server.env["CGROUP_ROOT"]
    v1 = Path("/sys/fs/cgroup/memory") / root
    if v1.is_dir():
        stat = dict(line.split() for line in (v1 / "memory.stat").read_text().splitlines())
        usage = int((v1 / "memory.usage_in_bytes").read_text())
        return int(stat["total_rss"]) + int(stat["total_shmem"]), usage
    v2 = Path("/sys/fs/cgroup") / root
    stat = dict(line.split() for line in (v2 / "memory.stat").read_text().splitlines())
    return int(stat["anon"]) + int(stat["shmem"]), int((v2 / "memory.current").read_text())


@dataclass(frozen=True)
class Snapshot:
    """What sandboxes cost, read at one moment."""

    held: int  # the cgroup root: anonymous + tmpfs (what admission counts)
    charged: int  # the cgroup root: the whole charge, page cache included
    available: int  # the host's MemAvailable
    server: int  # the server's RSS

    @classmethod
    def take(cls, server: SandpitServer) -> Snapshot:
        assert server.process is not None
        held, charged = root_memory(server)
        return cls(held, charged, mem_available(), rss(server.process.pid))


def rows_between(before: Snapshot, after: Snapshot, count: int) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for what, grown in (
        ("admission's count (anon + tmpfs)", after.held - before.held),
        ("cgroup charge (with page cache)", after.charged - before.charged),
        ("host MemAvailable drop", before.available - after.available),
        ("server RSS growth", after.server - before.server),
    ):
        found.append((what, f"{grown / MiB:.1f}", f"{grown / count / MiB:.2f}"))
    return found


def start_idle(user: User, workspace: str) -> None:
    """Start the workspace's sandbox with a terminal, then close it: no Python has run."""
    opened = user.client.post(f"/api/workspaces/{workspace}/terminals", json={}, timeout=120)
    assert opened.status_code == 201, opened.text
    terminal = opened.json()["id"]
    closed = user.client.delete(f"/api/workspaces/{workspace}/terminals/{terminal}")
    assert closed.status_code == 204, closed.text


def start_warm(user: User, workspace: str) -> None:
    """Start the workspace's sandbox with runs of `pass` until one says its interpreter
    was warm: the warm interpreter (started after a run ends) then waits for the next."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = user.client.post(
            f"/api/workspaces/{workspace}/runs?wait=true", json={"code": "pass"}, timeout=120
        )
        assert run.status_code == 200, run.text
        assert run.json()["status"] == "ok", run.text
        if run.json()["interpreter"] == "warm":
            return
        time.sleep(1)
    raise RuntimeError("no run was warm in 120 s")


def main() -> None:
    count = int(os.environ.get("SANDBOX_MEMORY_COUNT", "100"))
    warm = int(os.environ.get("SANDBOX_MEMORY_WARM_COUNT", "10"))
    total = count + warm
    server = SandpitServer(
        sandboxes_per_user=str(total + 10),
        sandbox_starts_per_minute=str(total * 10),
        max_workspaces_per_user=str(total + 10),
        concurrent_runs_per_user="50",
        sandboxes_memory_mb=str(max(4096, count * 64 + warm * 256)),
        sandbox_idle_s="3600",
        runs_per_minute="10000",
        # As in production (the test servers' default is off).
        warm_interpreter="true",
    )
    server.start()
    assert server.process is not None
    try:
        # Terminals opened per user per minute are capped (CREATES_PER_MINUTE):
        # the idle sandboxes are spread over users, IDLE_PER_USER each.
        users = [User(server) for _ in range(-(-count // IDLE_PER_USER))]
        user = users[0]
        time.sleep(2)  # let the server settle before the baseline
        baseline = Snapshot.take(server)
        began = time.monotonic()
        for index in range(count):
            owner = users[index // IDLE_PER_USER]
            start_idle(owner, owner.workspace(f"idle-{index}"))
        idle_s = time.monotonic() - began
        time.sleep(5)  # what the starts freed is freed
        idle = Snapshot.take(server)
        live = [s for owner in users for s in owner.client.get("/api/sandboxes").json()]
        if len(live) != count:  # one ended meanwhile (seen once on a machine at load 28)
            print(f"note: {len(live)} of the {count} sandboxes still run; figures are per live one")
            count = len(live)
        per_cgroup = sorted(s["memory_bytes"] for s in live)

        for index in range(warm):
            start_warm(user, user.workspace(f"warm-{index}"))
        time.sleep(5)
        warmed = Snapshot.take(server)

        typical = user.workspace("typical")
        sandbox_peak = measure_typical(user, typical)

        print(f"load average (1, 5, 15 min) at the end: {load()}")
        print(
            f"{count} idle sandboxes (started by a terminal, then closed: no Python run),"
            f" started in {idle_s:.1f} s"
        )
        print_table(
            ("what", "total MiB", "per sandbox MiB"),
            [
                *rows_between(baseline, idle, count),
                (
                    "one sandbox's cgroup, median (max)",
                    "",
                    f"{per_cgroup[len(per_cgroup) // 2] / MiB:.2f} ({per_cgroup[-1] / MiB:.2f})",
                ),
            ],
        )
        print()
        print(f"{warm} more idle sandboxes that ran Python (`pass`, until a run was warm)")
        print_table(("what", "total MiB", "per sandbox MiB"), rows_between(idle, warmed, warm))
        print()
        print(
            "typical sandbox (numpy + pandas + matplotlib, a 100 000-row frame, one plot): "
            f"{sandbox_peak[0] / MiB:.1f} MiB at its end, {sandbox_peak[1] / MiB:.1f} MiB "
            "the most seen while it ran"
        )
        for owner in users:
            owner.close()
    finally:
        server.close()


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure_typical(user: User, workspace: str) -> tuple[int, int]:
    """The typical run's sandbox memory once it is ready, and the most seen while it ran."""
    started = user.client.post(f"/api/workspaces/{workspace}/runs", json={"code": TYPICAL})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    most = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            sandbox = user.client.get(f"/api/workspaces/{workspace}/sandbox").json()
        except httpx.HTTPError:
            continue
        most = max(most, sandbox.get("memory_bytes") or 0)
        if "ready" in user.client.get(f"/api/runs/{run_id}").json()["stdout"]:
            sandbox = user.client.get(f"/api/workspaces/{workspace}/sandbox").json()
            return sandbox["memory_bytes"], max(most, sandbox["memory_bytes"])
        time.sleep(0.05)
    raise RuntimeError("the typical run did not get ready in 120 s")


if __name__ == "__main__":
    main()
