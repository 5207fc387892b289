"""Run latency through the API, bubblewrap beside Docker, with host baselines (issues 3 and 6).

For each sandbox backend (a server each, one after the other, same session):
- warm run: `print("hi")` in a workspace whose sandbox is already running;
- cold run: the same right after stopping the sandbox (sandbox start included);
- idle memory of a sandbox: its memory use with nothing running (the
  cgroup for bubblewrap, the engine's stats for Docker), after one run.
Baselines: `python3 -c pass` on the host, the runtime image's python under a
bare `bwrap` (no cgroup, no agent), and `docker run --rm` of the same image
(the engine's own start-up cost, no agent).

A backend whose server cannot start here (no Docker engine) is reported and skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import docker
from common import measure, print_table, row
from tests.conftest import User
from tests.servers import SandpitServer

from sandpit.config import REPO_DIR
from sandpit.runtime import plan
from sandpit.runtime.image import RuntimeImage, find_image

BACKENDS = ("bubblewrap", "docker")


def main() -> None:
    image = find_image(REPO_DIR / "data")
    if image is None:
        raise SystemExit("build the runtime image first: make image")
    rows: list[tuple[str, str, str, str, str]] = []
    idle: dict[str, float] = {}
    for backend in BACKENDS:
        try:
            idle[backend] = measure_backend(backend, rows)
        except RuntimeError as exc:
            print(f"{backend}: the server did not start, skipped ({exc})")
    rows += baselines(image)
    print_table(("what", "n", "p50 ms", "p95 ms", "mean ms"), rows)
    print()
    for backend, memory in idle.items():
        print(f"idle sandbox memory, {backend} (after one run): {memory / 2**20:.1f} MiB")


def measure_backend(backend: str, rows: list[tuple[str, str, str, str, str]]) -> float:
    """Add the warm and cold rows of `backend`; return its idle memory in bytes."""
    # The per-user run rate limit would stop a benchmark, not a person.
    server = SandpitServer(runs_per_minute="1000000", sandbox_backend=backend)
    server.start()
    try:
        user = User(server)
        ws = user.workspace()
        url = f"/api/workspaces/{ws}/runs"

        def warm() -> None:
            response = user.client.post(url, params={"wait": True}, json={"code": "print('hi')"})
            assert response.json()["stdout"] == "hi\n", response.text

        rows.append(row(f"{backend}: warm run, API end to end", measure(warm, 100)))
        cold = []
        for _ in range(30):
            user.client.delete(f"/api/workspaces/{ws}/sandbox")  # not timed
            start = time.perf_counter()
            warm()
            cold.append((time.perf_counter() - start) * 1000)
        rows.append(row(f"{backend}: cold run (sandbox start + run)", cold))
        warm()
        time.sleep(1)
        memory: int = user.client.get(f"/api/workspaces/{ws}/sandbox").json()["memory_bytes"]
        if backend == "docker":
            shim = docker_shim_rss(server.env["CGROUP_ROOT"])
            print(f"docker: the idle sandbox's shim, outside it: {shim / 2**20:.1f} MiB RSS")
        user.close()
        return float(memory)
    finally:
        server.close()


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


def baselines(image: RuntimeImage) -> list[tuple[str, str, str, str, str]]:
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
