"""A noisy tenant at every cap while a bystander works (issue 12).

One server with the default limits and, as in production, the warm
interpreter. A bystander has a warm sandbox (one run
done) and a file; their warm run (`print("hi")`, `?wait=true`) and file read
are timed twice in the same session:

1. quiet: nobody else on the server;
2. noisy: meanwhile one user does everything at their caps at once, for
   NOISY_S seconds (default 60):
   - sandboxes: holds SANDBOXES_PER_USER sandboxes, and keeps asking for one
     more (refused 429) and for starts in the rate window;
   - runs with many plots: keeps CONCURRENT_RUNS_PER_USER runs going, each
     drawing 20 matplotlib figures, burning CPU in between;
   - list calls: keeps listing their workspaces' runs (two clients, as fast
     as they are answered, refused or not: a hostile client ignores
     Retry-After);
   - other cheap calls as fast as they are answered: their own account, a
     file read, an address with no endpoint, through a second session
     (signing in again), and sign-in page calls with no session from the
     same address as everyone's (127.0.0.1 here);
   - terminals: holds TERMINALS_PER_USER terminals, and keeps asking for more.

Reported: the bystander's p50 and p99 in both phases and their ratio, what
the noisy user got (answers by status: refused and accepted, and the
requests a second), the server's peak RSS (sampled
every 100 ms, and the kernel's high-water mark), the data directory's growth
over the noisy phase (blocks allocated on its own file system: loop images
count as what they hold on disk, mounted volumes are not walked twice), and
the load average before and after (the machine may be shared: it says how
much the figures can be trusted).

Usage: backend/.venv/bin/python bench/run.py noisy_tenant   (NOISY_S=60)
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from common import percentile, print_table
from tests.conftest import User
from tests.servers import SandpitServer

from sandpit.config import Settings

PLOTS = """
import matplotlib.pyplot as plt, math
for figure in range(20):
    plt.figure()
    plt.plot([math.sin(i / 10 + figure) for i in range(2000)])
    plt.show()
sum(i * i for i in range(3_000_000))
"""
SAMPLES = 40
# The bystander keeps under RUNS_PER_MINUTE (60) too: a sample every 1.1 s.
SAMPLE_EVERY_S = 1.1


def disk_usage(root: Path) -> int:
    """Bytes allocated to the files under `root`, not crossing into other file systems."""
    device = root.stat().st_dev
    total = 0
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if os.lstat(os.path.join(directory, d)).st_dev == device]
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_blocks * 512
            except FileNotFoundError:  # pruned meanwhile
                continue
    return total


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def status_of(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


class Noisy:
    """One user at every cap, from several threads, until `stop` is set."""

    def __init__(self, server: SandpitServer) -> None:
        self.user = User(server)
        self.stop = threading.Event()
        self.answers: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.workspaces = [self.user.workspace(f"noisy-{i}") for i in range(5)]
        self.user.client.put(f"/api/workspaces/{self.workspaces[0]}/files/a.txt", content=b"a")
        self.url = server.url
        self.headers = dict(self.user.client.headers)
        # A second session of the same user: another token, not another allowance.
        login = httpx.post(
            f"{server.url}/api/auth/login",
            json={"username": self.user.username, "password": self.user.password},
        )
        self.second = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def count(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.answers[f"{what} {response.status_code}"] += 1

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=120)

    def threads(self) -> list[threading.Thread]:
        held = self.workspaces[:3]
        jobs = [
            *(lambda w=w: self.plots(w) for w in held * 2),  # 6 = the concurrent cap
            self.lists,
            self.lists,
            self.cheap,
            self.anonymous,
            self.terminals,
            self.more_sandboxes,
        ]
        return [threading.Thread(target=job, daemon=True) for job in jobs]

    def plots(self, workspace: str) -> None:
        with self.client() as client:
            while not self.stop.is_set():
                answer = client.post(
                    f"/api/workspaces/{workspace}/runs?wait=true", json={"code": PLOTS}
                )
                self.count("run with 20 plots", answer)
                if answer.status_code == 429:
                    time.sleep(float(answer.headers.get("Retry-After", "1")))

    def lists(self) -> None:
        with self.client() as client:
            while not self.stop.is_set():
                for workspace in self.workspaces[:3]:
                    self.count("list runs", client.get(f"/api/workspaces/{workspace}/runs"))

    def cheap(self) -> None:
        with self.client() as client:
            client.headers.update(self.second)
            file = f"/api/workspaces/{self.workspaces[0]}/files/a.txt"
            while not self.stop.is_set():
                for what, path in (("me", "/api/auth/me"), ("read a file", file)):
                    self.count(what, client.get(path))
                self.count("no such endpoint", client.get("/api/nothing-here"))

    def anonymous(self) -> None:
        with httpx.Client(base_url=self.url, timeout=120) as client:
            while not self.stop.is_set():
                self.count("no session", client.get("/api/auth/registration"))

    def terminals(self) -> None:
        with self.client() as client:
            while not self.stop.is_set():
                for workspace in self.workspaces[:3]:
                    answer = client.post(f"/api/workspaces/{workspace}/terminals", json={})
                    self.count("open a terminal", answer)
                time.sleep(0.2)

    def more_sandboxes(self) -> None:
        with self.client() as client:
            while not self.stop.is_set():
                for workspace in self.workspaces[3:]:
                    answer = client.post(f"/api/workspaces/{workspace}/terminals", json={})
                    self.count("one more sandbox", answer)
                time.sleep(0.2)


def bystander_samples(user: User, workspace: str) -> tuple[list[float], list[float]]:
    runs, reads = [], []
    for _ in range(SAMPLES):
        next_at = time.monotonic() + SAMPLE_EVERY_S
        began = time.perf_counter()
        run = user.client.post(
            f"/api/workspaces/{workspace}/runs?wait=true", json={"code": 'print("hi")'}
        )
        runs.append((time.perf_counter() - began) * 1000)
        assert run.status_code == 200, run.text
        assert run.json()["stdout"] == "hi\n", run.text
        began = time.perf_counter()
        read = user.client.get(f"/api/workspaces/{workspace}/files/notes.txt")
        reads.append((time.perf_counter() - began) * 1000)
        assert read.status_code == 200
        time.sleep(max(0.0, next_at - time.monotonic()))
    return runs, reads


def print_latencies(phases: list[tuple[str, list[float], list[float]]]) -> None:
    """One row per (what, quiet samples, noisy samples): p50, p99 and the p99 ratio."""
    rows = [
        (
            name,
            f"{percentile(quiet, 50):.1f}",
            f"{percentile(quiet, 99):.1f}",
            f"{percentile(loud, 50):.1f}",
            f"{percentile(loud, 99):.1f}",
            f"{percentile(loud, 99) / percentile(quiet, 99):.2f}x",
        )
        for name, quiet, loud in phases
    ]
    headers = ("bystander", "quiet p50 ms", "quiet p99 ms", "noisy p50 ms", "noisy p99 ms")
    print_table((*headers, "p99 ratio"), rows)


def print_answers(answers: Counter[str], seconds: float) -> None:
    """The noisy user's answers by request and status, then refused and accepted in all."""
    print_table(
        ("the noisy user's requests", "answers", "a second"),
        [(what, str(n), f"{n / seconds:.1f}") for what, n in sorted(answers.items())],
    )
    refused = sum(n for what, n in answers.items() if what.endswith(" 429"))
    total = sum(answers.values())
    print(
        f"the noisy client: {total} requests in {seconds:.0f} s ({total / seconds:.0f} a second), "
        f"{refused} refused (429), {total - refused} answered otherwise"
    )


def production_server() -> SandpitServer:
    """A test server with production's defaults where the test servers differ:
    the warm interpreter on, and the request rate (theirs is too high to be met)."""
    defaults = Settings.model_fields
    return SandpitServer(
        warm_interpreter="true",
        user_requests_per_s=str(defaults["user_requests_per_s"].default),
        user_request_burst=str(defaults["user_request_burst"].default),
    )


def main() -> None:
    noisy_s = float(os.environ.get("NOISY_S", "60"))
    server = production_server()
    server.start()
    assert server.process is not None
    pid = server.process.pid
    peak = [0]
    sampling = threading.Event()

    def sample_rss() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], status_of(pid, "VmRSS"))
            time.sleep(0.1)

    threading.Thread(target=sample_rss, daemon=True).start()
    try:
        bystander = User(server)
        workspace = bystander.workspace("bystander")
        bystander.client.put(f"/api/workspaces/{workspace}/files/notes.txt", content=b"x" * 4096)
        warm = bystander.client.post(
            f"/api/workspaces/{workspace}/runs?wait=true", json={"code": "1"}
        )
        assert warm.status_code == 200, warm.text  # the sandbox is up: runs are warm
        time.sleep(SAMPLE_EVERY_S)
        load_before = load()
        quiet_runs, quiet_reads = bystander_samples(bystander, workspace)
        quiet_rss = status_of(pid, "VmRSS")
        data_before = disk_usage(server.data_dir)

        noisy = Noisy(server)
        threads = noisy.threads()
        for thread in threads:
            thread.start()
        time.sleep(5)  # every cap reached
        began = time.monotonic()
        noisy_runs, noisy_reads = bystander_samples(bystander, workspace)
        while time.monotonic() - began < noisy_s:
            time.sleep(0.5)
        noisy.stop.set()
        noisy_for = time.monotonic() - began + 5
        for thread in threads:
            thread.join(timeout=180)
        sampling.set()
        hwm = status_of(pid, "VmHWM")
        data_after = disk_usage(server.data_dir)
        load_after = load()

        print(f"bystander, {SAMPLES} samples per phase; noisy phase {noisy_s:.0f} s")
        print_latencies(
            [("warm run", quiet_runs, noisy_runs), ("file read", quiet_reads, noisy_reads)]
        )
        print()
        print_answers(noisy.answers, noisy_for)
        print()
        print(
            f"server RSS: {quiet_rss / 2**20:.0f} MiB quiet, peak {peak[0] / 2**20:.0f} MiB "
            f"sampled, high-water mark {hwm / 2**20:.0f} MiB"
        )
        print(
            f"data directory: {data_before / 2**20:.0f} MiB before the noisy phase, "
            f"{data_after / 2**20:.0f} MiB after (+{(data_after - data_before) / 2**20:.0f} MiB);"
            f" load average (1, 5, 15 min): {load_before} before, {load_after} after"
        )
        for user in (noisy.user, bystander):
            user.close()
    finally:
        sampling.set()
        server.close()


if __name__ == "__main__":
    main()
