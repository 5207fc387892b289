"""Load and soak (issue 20): a class of students at once, level by level, with Locust.

Usage (from the repository, after `make setup-test`):
    backend/.venv/bin/python bench/bench_load.py
        [--backends bubblewrap,docker] [--databases sqlite,postgres]
        [--levels 1,4,16,32,48,64] [--step 40]
    backend/.venv/bin/python bench/bench_load.py --soak 1800 --users 16
        [--backends bubblewrap] [--databases sqlite]

For each backend and database a fresh server is started (the per-workspace
run rate limit lifted, so the figures are the server's, not the limit's, and
the fd guard on). Locust (`bench/load/locustfile.py`, in its own environment
`bench/.venv-load`, made here from `bench/load/requirements.txt`) adds users
level by level; each user runs `main.py`, saves it and echoes a line through
its terminal, back to back. Per level: requests per second, p50 and p99 (over
Locust's last 10 s window), failures, and the server's RSS and open
descriptors at the level's end; the server must answer `/api/health` after
every level. The soak holds one level and samples RSS, descriptors, live
sandboxes and loop devices every 30 s, so drift shows.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
# Runnable on its own as well as from bench/run.py.
sys.path[:0] = [str(HERE), str(HERE.parent / "backend")]

from common import print_table  # noqa: E402
from tests.servers import PostgresServer, SandpitServer  # noqa: E402

LOAD_VENV = HERE / ".venv-load"
REQUIREMENTS = HERE / "load" / "requirements.txt"
LOCUSTFILE = HERE / "load" / "locustfile.py"
NAMES = ("run", "save", "echo")


@dataclass
class Sample:
    at: float
    rss_mib: float
    fds: int
    sandboxes: int
    loops: int


@dataclass
class Watch:
    """Samples the server process every `interval_s` seconds in a thread."""

    server: SandpitServer
    interval_s: float
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._loop, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(sample(self.server))
            self._stop.wait(self.interval_s)


def sample(server: SandpitServer) -> Sample:
    assert server.process is not None
    pid = server.process.pid
    rss_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = int(line.split()[1])
    return Sample(
        at=time.monotonic(),
        rss_mib=rss_kib / 1024,
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        sandboxes=live_sandboxes(server.env["CGROUP_ROOT"]),
        loops=loop_devices(server.data_dir),
    )


def live_sandboxes(cgroup_root: str) -> int:
    """Sandbox cgroups under the server's root (both backends put theirs there)."""
    for base in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        root = base / cgroup_root
        if root.is_dir():
            return sum(1 for entry in root.iterdir() if entry.is_dir())
    return 0


def loop_devices(data_dir: Path) -> int:
    listed = subprocess.run(
        ["/usr/sbin/losetup", "--list", "--noheadings", "--output", "BACK-FILE"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(1 for line in listed.splitlines() if str(data_dir) in line)


def ensure_locust() -> Path:
    """Locust in its own environment (gevent stays out of the server's)."""
    locust = LOAD_VENV / "bin" / "locust"
    stamp = LOAD_VENV / ".requirements"
    wanted = REQUIREMENTS.read_text()
    if not locust.exists() or not stamp.exists() or stamp.read_text() != wanted:
        print("==> Installing Locust into bench/.venv-load", flush=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(LOAD_VENV)], check=True)
        pip = [str(LOAD_VENV / "bin" / "pip"), "install", "-q"]
        subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return locust


def run_locust(
    locust: Path, url: str, levels: list[int], step_s: float, prefix: Path
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LOAD_LEVELS": ",".join(map(str, levels)),
        "LOAD_STEP_S": str(step_s),
    }
    return subprocess.run(
        [
            str(locust),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            url,
            "--csv",
            str(prefix),
            "--csv-full-history",
            "--only-summary",
            "--stop-timeout",
            "10",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=step_s * len(levels) + 300,
    )


def level_rows(
    history: Path, levels: list[int], step_s: float, samples: list[Sample], started: float
) -> list[tuple[str, ...]]:
    """One row per level and request name, from Locust's per-second history."""
    with history.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return []
    first = int(rows[0]["Timestamp"])
    table: list[tuple[str, ...]] = []
    failures_before: dict[str, int] = {}
    for index, users in enumerate(levels):
        end = first + (index + 1) * step_s
        sampled = [s for s in samples if s.at - started <= (index + 1) * step_s]
        last = sampled[-1] if sampled else None
        for name in NAMES:
            at_end = [r for r in rows if r["Name"] == name and int(r["Timestamp"]) <= end]
            if not at_end:
                continue
            row = at_end[-1]
            failures = int(row["Total Failure Count"])
            table.append(
                (
                    str(users),
                    name,
                    f"{float(row['Requests/s']):.1f}",
                    row["50%"],
                    row["99%"],
                    str(failures - failures_before.get(name, 0)),
                    f"{last.rss_mib:.0f}" if last else "?",
                    str(last.fds) if last else "?",
                )
            )
            failures_before[name] = failures
    return table


def failures_of(failures_csv: Path) -> list[str]:
    if not failures_csv.exists():
        return []
    with failures_csv.open() as handle:
        return [
            f"{r['Occurrences']}x {r['Name']}: {r['Error'][:160]}" for r in csv.DictReader(handle)
        ]


def exceptions_of(exceptions_csv: Path) -> list[str]:
    """Errors in the load script itself (a user that died), which must not pass unseen."""
    if not exceptions_csv.exists():
        return []
    with exceptions_csv.open() as handle:
        return [f"{r['Count']}x {r['Message'][:200]}" for r in csv.DictReader(handle)]


def start_server(
    backend: str,
    database: str,
    postgres: PostgresServer | None,
    source: str = "",
    settings: list[str] | None = None,
) -> SandpitServer:
    url = postgres.create_database() if database == "postgres" and postgres else ""
    # `source`: another checkout's backend/src, to measure an older server the same way.
    extra = {"pythonpath": source} if source else {}
    extra |= dict(item.split("=", 1) for item in settings or [])
    server = SandpitServer(
        url,
        sandbox_backend=backend,
        runs_per_minute="1000000",
        log_level="warning",
        **extra,
    )
    server.start()
    return server


def load(args: argparse.Namespace, locust: Path) -> None:
    levels = [int(n) for n in args.levels.split(",")]
    headers = ("users", "request", "req/s", "p50 ms", "p99 ms", "failures", "RSS MiB", "fds")
    postgres = None
    if "postgres" in args.databases:
        postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="sandpit-pg-")))
        postgres.start()
    try:
        for backend in args.backends.split(","):
            for database in args.databases.split(","):
                print(f"\n### {backend}, {database}\n", flush=True)
                measure(
                    backend,
                    database,
                    postgres,
                    locust,
                    levels,
                    args.step,
                    headers,
                    args.source,
                    args.set,
                )
    finally:
        if postgres is not None:
            postgres.stop()


def measure(
    backend: str,
    database: str,
    postgres: PostgresServer | None,
    locust: Path,
    levels: list[int],
    step_s: float,
    headers: tuple[str, ...],
    source: str,
    settings: list[str],
) -> None:
    server = start_server(backend, database, postgres, source, settings)
    watch = Watch(server, 1.0)
    try:
        prefix = server.data_dir.parent / "locust"
        started = time.monotonic()
        watch.start()
        result = run_locust(locust, server.url, levels, step_s, prefix)
        watch.stop()
        alive = healthy(server)
        if not Path(f"{prefix}_stats_history.csv").exists():
            raise SystemExit(f"Locust wrote no statistics: {result.stderr[-3000:]}")
        print_table(
            headers,
            level_rows(Path(f"{prefix}_stats_history.csv"), levels, step_s, watch.samples, started),
        )
        print(f"\nserver alive after the last level: {'yes' if alive else 'NO'}")
        for line in failures_of(Path(f"{prefix}_failures.csv")):
            print(f"failure: {line}")
        for line in exceptions_of(Path(f"{prefix}_exceptions.csv")):
            print(f"a user crashed: {line}")
        guard = server.double_closes()
        print(f"descriptors closed twice (fd guard): {'none' if not guard else guard[:2000]}")
        if result.returncode not in (0, 1):  # 1: Locust saw failures, reported above
            print(f"locust exited {result.returncode}: {result.stderr[-2000:]}")
    finally:
        watch.stop()
        if os.environ.get("KEEP_LOCUST_CSV"):
            for found in server.data_dir.parent.glob("locust_*.csv"):
                Path(os.environ["KEEP_LOCUST_CSV"], found.name).write_bytes(found.read_bytes())
        server.close()


def soak(args: argparse.Namespace, locust: Path) -> None:
    backend = args.backends.split(",")[0]
    database = args.databases.split(",")[0]
    postgres = None
    if database == "postgres":
        postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="sandpit-pg-")))
        postgres.start()
    server = start_server(backend, database, postgres, args.source, args.set)
    watch = Watch(server, 30.0)
    try:
        print(f"\n### soak: {args.users} users for {args.soak} s, {backend}, {database}\n")
        prefix = server.data_dir.parent / "locust"
        started = time.monotonic()
        watch.start()
        run_locust(locust, server.url, [args.users], args.soak, prefix)
        watch.stop()
        watch.samples.append(sample(server))
        print_table(
            ("minute", "RSS MiB", "fds", "sandboxes", "loop devices"),
            [
                (
                    f"{(s.at - started) / 60:.1f}",
                    f"{s.rss_mib:.1f}",
                    str(s.fds),
                    str(s.sandboxes),
                    str(s.loops),
                )
                for s in watch.samples
            ],
        )
        with Path(f"{prefix}_stats.csv").open() as handle:
            for row in csv.DictReader(handle):
                if row["Name"] in NAMES:
                    print(
                        f"{row['Name']}: {row['Request Count']} requests, "
                        f"{row['Failure Count']} failures, p50 {row['50%']} ms, "
                        f"p99 {row['99%']} ms"
                    )
        print(f"server alive at the end: {'yes' if healthy(server) else 'NO'}")
        print(f"descriptors closed twice (fd guard): {server.double_closes()[:2000] or 'none'}")
    finally:
        watch.stop()
        server.close()
        if postgres is not None:
            postgres.stop()


def healthy(server: SandpitServer) -> bool:
    try:
        return httpx.get(f"{server.url}/api/health", timeout=10).status_code == 200
    except httpx.TransportError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="bubblewrap,docker")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--levels", default="1,4,16,32,48,64")
    parser.add_argument("--step", type=float, default=40.0, help="seconds per level")
    parser.add_argument("--soak", type=float, default=0.0, help="soak for this many seconds")
    parser.add_argument("--users", type=int, default=16, help="users during the soak")
    parser.add_argument(
        "--source", default="", help="serve from this backend/src (an older checkout, to compare)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a server setting"
    )
    args = parser.parse_args([] if argv is None else argv)
    locust = ensure_locust()
    if args.soak:
        soak(args, locust)
    else:
        load(args, locust)


if __name__ == "__main__":
    main(sys.argv[1:])
