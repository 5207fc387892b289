"""Run latency through the API, bubblewrap beside Docker, warm runs off and on (issues 3, 6, 15).

For each sandbox backend, and for each `WARM_INTERPRETER` setting (a server
each, one after the other, same session):
- `print('hi')`: a run in a workspace whose sandbox is already running
  (with the warm interpreter on: once runs are forked from it);
- numpy + pandas: `import numpy, pandas` and a print, the same way;
- where the API's time goes for `print('hi')`: the run's own duration (the
  sandbox: spawn, confine, the program), a `GET /api/runs/{id}` (HTTP, auth,
  a database read) and the rest (the two database writes of a run, task
  scheduling on the event loop);
- cold run: the same right after stopping the sandbox (sandbox start included);
- idle memory of a sandbox after one run (the cgroup for bubblewrap, the
  engine's stats for Docker); with the warm interpreter on, once it is up.
Baselines: `python3 -c pass` on the host (the floor, measured in the same
run), the runtime image's python under a bare `bwrap` (no cgroup, no
agent), and `docker run --rm` of the same image. The load average is
printed beside: the machine may be shared.

A backend whose server cannot start here (no Docker engine) is reported and skipped.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import docker
from common import measure, print_table, row
from tests.conftest import User
from tests.servers import SandpitServer

from sandpit.config import REPO_DIR
from sandpit.runtime import plan
from sandpit.runtime.image import RuntimeImage, find_image

BACKENDS = ("bubblewrap", "docker")
WARM_SETTINGS = ("false", "true")
HI = "print('hi')"
NUMPY_PANDAS = "import numpy, pandas\nprint('hi')"
REPEAT = 30
COLD_REPEAT = 8
WARM_DEADLINE_S = 300.0

Row = tuple[str, str, str, str, str]


def main() -> None:
    image = find_image(REPO_DIR / "data")
    if image is None:
        raise SystemExit("build the runtime image first: make image")
    print(f"load average at start: {os.getloadavg()}")
    rows: list[Row] = baselines(image)
    floor = float(rows[0][2])
    notes: list[str] = []
    for backend in BACKENDS:
        for warm in WARM_SETTINGS:
            try:
                measure_backend(backend, warm, rows, notes)
            except RuntimeError as exc:
                print(f"{backend}: the server did not start, skipped ({exc})")
    print_table(("what", "n", "p50 ms", "p95 ms", "mean ms"), rows)
    print()
    print(f"floor (host python3 -c pass) p50: {floor:.2f} ms; p50 as a multiple of it:")
    for r in rows[1:]:
        print(f"  {r[0]}: {float(r[2]) / floor:.1f}x")
    print()
    for note in notes:
        print(note)
    print(f"load average at end: {os.getloadavg()}")


def measure_backend(backend: str, warm_setting: str, rows: list[Row], notes: list[str]) -> None:
    """Add the rows of `backend` with WARM_INTERPRETER=`warm_setting`, and its memory notes."""
    # The per-user run rate limit would stop a benchmark, not a person.
    server = SandpitServer(
        runs_per_minute="1000000", sandbox_backend=backend, warm_interpreter=warm_setting
    )
    server.start()
    label = f"{backend}, warm {'on' if warm_setting == 'true' else 'off'}"
    try:
        user = User(server)
        ws = user.workspace()
        url = f"/api/workspaces/{ws}/runs"

        def run(code: str) -> dict[str, object]:
            response = user.client.post(url, params={"wait": True}, json={"code": code})
            answer: dict[str, object] = response.json()
            assert answer["stdout"] == "hi\n", response.text
            return answer

        run(HI)
        if warm_setting == "true":
            waited = until_warm(run)
            notes.append(f"{label}: first warm run {waited:.1f} s after the first run")
        posts: list[float] = []
        durations: list[float] = []
        gets: list[float] = []

        def hi() -> None:
            start = time.perf_counter()
            answer = run(HI)
            posts.append((time.perf_counter() - start) * 1000)
            durations.append(float(str(answer["duration_ms"])))
            start = time.perf_counter()
            user.client.get(f"/api/runs/{answer['id']}")
            gets.append((time.perf_counter() - start) * 1000)

        measure(hi, REPEAT)  # each call timed in parts: the run's POST, then the GET
        hi_samples = posts[-REPEAT:]
        rows.append(row(f"{label}: print('hi'), API end to end", hi_samples))
        rows.append(row(f"{label}:   of which the run in the sandbox", durations[-REPEAT:]))
        rows.append(row(f"{label}:   GET /api/runs/{{id}} (HTTP, auth, DB read)", gets[-REPEAT:]))
        rest = statistics.median(hi_samples) - statistics.median(durations[-REPEAT:])
        notes.append(
            f"{label}: print('hi') p50 minus the run's own p50 = {rest:.1f} ms "
            "(HTTP, auth, 2 DB writes, the event loop)"
        )
        rows.append(
            row(
                f"{label}: numpy + pandas, API end to end",
                measure(lambda: run(NUMPY_PANDAS), REPEAT // 2, 3),
            )
        )
        time.sleep(1)
        memory = user.client.get(f"/api/workspaces/{ws}/sandbox").json()["memory_bytes"]
        notes.append(f"{label}: idle sandbox memory after runs: {memory / 2**20:.1f} MiB")
        rows.append(row(f"{label}: cold run (sandbox start + run)", cold_runs(user, ws, run)))
        if backend == "docker":
            shim = docker_shim_rss(server.env["CGROUP_ROOT"])
            notes.append(f"{label}: the idle sandbox's shim, outside it: {shim / 2**20:.1f} MiB")
        user.close()
    finally:
        server.close()


def cold_runs(user: User, ws: str, run: Callable[[str], object]) -> list[float]:
    """Milliseconds of `print('hi')` runs each right after the sandbox was stopped."""
    cold = []
    for _ in range(COLD_REPEAT):
        user.client.delete(f"/api/workspaces/{ws}/sandbox")  # not timed
        start = time.perf_counter()
        run(HI)
        cold.append((time.perf_counter() - start) * 1000)
    return cold


def until_warm(run: object) -> float:
    """Run `print('hi')` until a run says it was forked warm; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < WARM_DEADLINE_S:
        if run(HI)["interpreter"] == "warm":  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.2)
    raise RuntimeError("the warm interpreter did not come up")


def docker_shim_rss(instance: str) -> int:
    """RSS of the engine's per-container shim (a host process outside the container's cgroup)."""
    client = docker.from_env()
    ids = {
        c.id for c in client.containers.list(filters={"label": f"org.sandpit.instance={instance}"})
    }
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        if b"containerd-shim" not in cmdline[0] or not ids & {a.decode() for a in cmdline}:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def baselines(image: RuntimeImage) -> list[Row]:
    rows = [
        row(
            "host: python3 -c pass",
            measure(
                lambda: subprocess.run(["/usr/bin/python3", "-c", "pass"], check=True),
                50,
            ),
        )
    ]
    bwrap = [
        "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", str(image.rootfs), "/",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "python3", "-c", "print('hi')",
    ]  # fmt: skip
    bare = measure(lambda: subprocess.run(bwrap, check=True, capture_output=True), 50)
    rows.append(row("bare bwrap + image python", bare))
    docker = shutil.which("docker")
    if docker is not None:
        tag = plan.docker_tag(image.image_hash)
        argv = [
            docker,
            "run",
            "--rm",
            "--network",
            "none",
            tag,
            "python3",
            "-c",
            "print('hi')",
        ]
        present = subprocess.run(
            [docker, "image", "inspect", tag], check=False, capture_output=True
        )
        if present.returncode == 0:
            samples = measure(lambda: subprocess.run(argv, check=True, capture_output=True), 20, 2)
            rows.append(row("docker run --rm + image python", samples))
    return rows
