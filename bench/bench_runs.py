"""Run latency through the API (issue 3's figures), beside host baselines.

- warm run: `print("hi")` in a workspace whose sandbox is already running;
- cold run: the same right after stopping the sandbox (sandbox start included);
- baselines in the same session: `python3 -c pass` on the host, and the
  runtime image's python under a bare `bwrap` (no cgroup, no agent);
- idle memory of a sandbox: its cgroup's memory use with nothing running.
Docker's `docker run --rm` baseline comes with the Docker backend.
"""

from __future__ import annotations

import subprocess
import time

from common import measure, print_table, row
from tests.conftest import User
from tests.servers import SandpitServer

from sandpit.config import REPO_DIR
from sandpit.runtime.image import find_image


def main() -> None:
    image = find_image(REPO_DIR / "data")
    if image is None:
        raise SystemExit("build the runtime image first: make image")
    # The per-user run rate limit would stop a benchmark, not a person.
    server = SandpitServer(runs_per_minute="1000000")
    server.start()
    rows = []
    try:
        user = User(server)
        ws = user.workspace()
        url = f"/api/workspaces/{ws}/runs"

        def warm() -> None:
            response = user.client.post(url, params={"wait": True}, json={"code": "print('hi')"})
            assert response.json()["stdout"] == "hi\n"

        rows.append(row("warm run, API end to end", measure(warm, 100)))
        cold = []
        for _ in range(30):
            user.client.delete(f"/api/workspaces/{ws}/sandbox")  # not timed
            start = time.perf_counter()
            warm()
            cold.append((time.perf_counter() - start) * 1000)
        rows.append(row("cold run (sandbox start + run)", cold))
        warm()
        time.sleep(1)
        idle = user.client.get(f"/api/workspaces/{ws}/sandbox").json()["memory_bytes"]
        rows.append(
            row(
                "host: python3 -c pass",
                measure(lambda: subprocess.run(["/usr/bin/python3", "-c", "pass"], check=True), 50),
            )
        )
        bwrap = [
            "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", str(image.rootfs), "/",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "python3", "-c", "print('hi')",
        ]  # fmt: skip
        bare = measure(lambda: subprocess.run(bwrap, check=True, capture_output=True), 50)
        rows.append(row("bare bwrap + image python", bare))
        user.close()
    finally:
        server.close()
    print_table(("what", "n", "p50 ms", "p95 ms", "mean ms"), rows)
    print(f"\nidle sandbox memory (cgroup, after one run): {idle / 2**20:.1f} MiB")
