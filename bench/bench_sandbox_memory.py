"""Memory of idle sandboxes and of a typical one, measured, for sizing a host (issue 12).

One server (bubblewrap, the default limits, the per-user caps lifted for the
measurement) starts COUNT sandboxes (default 100), each by one trivial run,
and leaves them idle. Then, with all of them up:
- the cgroup root of every sandbox: what admission counts (anonymous plus
  tmpfs memory, `memory_in_use`) and the whole charge (page cache included);
- the host: MemAvailable before and after (kernel objects, bubblewrap and
  agent processes, page tables: everything a sandbox costs the host);
- the server's own RSS before and after.
And one typical sandbox: a run that imports numpy, pandas and matplotlib,
builds a 100 000-row frame and draws a plot, measured at its end (the
sandbox's cgroup, as `GET .../sandbox` reports it) and at its peak.

Usage: backend/.venv/bin/python bench/run.py sandbox_memory
       (COUNT from the environment: SANDBOX_MEMORY_COUNT=100)
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
from common import print_table
from tests.conftest import User
from tests.servers import SandpitServer

MiB = 2**20
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


def main() -> None:
    count = int(os.environ.get("SANDBOX_MEMORY_COUNT", "100"))
    server = SandpitServer(
        sandboxes_per_user=str(count + 10),
        sandbox_starts_per_minute=str(count * 10),
        max_workspaces_per_user=str(count + 10),
        concurrent_runs_per_user="50",
        sandboxes_memory_mb=str(max(4096, count * 64)),
        sandbox_idle_s="3600",
        runs_per_minute="10000",
    )
    server.start()
    assert server.process is not None
    try:
        user = User(server)
        time.sleep(2)  # let the server settle before the baseline
        host_before, server_before = mem_available(), rss(server.process.pid)
        root_before = root_memory(server)
        started = time.monotonic()
        for index in range(count):
            workspace = user.workspace(f"idle-{index}")
            run = user.client.post(
                f"/api/workspaces/{workspace}/runs?wait=true",
                json={"code": "pass"},
                timeout=120,
            )
            assert run.status_code == 200, run.text
            assert run.json()["status"] == "ok", run.text
        start_s = time.monotonic() - started
        time.sleep(5)  # what the runs freed is freed
        host_after, server_after = mem_available(), rss(server.process.pid)
        held, charged = root_memory(server)
        live = user.client.get("/api/sandboxes").json()
        assert len(live) == count, f"{len(live)} sandboxes running, not {count}"
        per_cgroup = sorted(s["memory_bytes"] for s in live)

        typical = user.workspace("typical")
        sandbox_peak = measure_typical(user, typical)

        rows = [
            (
                "admission's count (anon + tmpfs), all",
                f"{(held - root_before[0]) / MiB:.1f}",
                f"{(held - root_before[0]) / count / MiB:.2f}",
            ),
            (
                "cgroup charge (with page cache), all",
                f"{(charged - root_before[1]) / MiB:.1f}",
                f"{(charged - root_before[1]) / count / MiB:.2f}",
            ),
            (
                "host MemAvailable drop",
                f"{(host_before - host_after) / MiB:.1f}",
                f"{(host_before - host_after) / count / MiB:.2f}",
            ),
            (
                "server RSS growth",
                f"{(server_after - server_before) / MiB:.1f}",
                f"{(server_after - server_before) / count / MiB:.3f}",
            ),
            (
                "one sandbox's cgroup, median (max)",
                "",
                f"{per_cgroup[len(per_cgroup) // 2] / MiB:.2f} ({per_cgroup[-1] / MiB:.2f})",
            ),
        ]
        print(f"{count} idle sandboxes (one run of `pass` each), started in {start_s:.1f} s")
        print_table(("what", "total MiB", "per sandbox MiB"), rows)
        print()
        print(
            "typical sandbox (numpy + pandas + matplotlib, a 100 000-row frame, one plot): "
            f"{sandbox_peak[0] / MiB:.1f} MiB at its end, {sandbox_peak[1] / MiB:.1f} MiB "
            "the most seen while it ran"
        )
        user.close()
    finally:
        server.close()


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
