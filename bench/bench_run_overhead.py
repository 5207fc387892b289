"""Where the time of a warm `print('hi')` run goes, through the API (issue 15).

One server (bubblewrap, warm interpreter on, SQLite), started through
`run_overhead_probe.py`, which times the run path inside the server (see
there). A workspace's sandbox is warmed until runs are forked warm; then
REPEAT runs of `print('hi')` with `?wait=true`, one after the other, each
timed by the client and traced by the server. Printed: the p50 of each part,
and beside them the floor (the host's `python3 -c pass`) and a bare HTTP
round trip (`GET /api/health`), measured in the same run. The load average
is printed too: the machine may be shared, and every figure moves with it.

Usage: backend/.venv/bin/python bench/run.py run_overhead   (REPEAT=60)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import measure, percentile, print_table
from tests.conftest import User
from tests.servers import SandpitServer, wait_for

HERE = Path(__file__).resolve().parent
WARM_DEADLINE_S = 300.0


class ProbedServer(SandpitServer):
    """`SandpitServer`, but started through the probe, which writes its traces to `traces`."""

    def __init__(self, **settings: str) -> None:
        super().__init__(**settings)
        self.traces = self.data_dir.parent / "traces.jsonl"
        self.env["BENCH_TRACE_FILE"] = str(self.traces)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(HERE / "run_overhead_probe.py")],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._healthy, 60, f"the server on port {self.port}")


def main() -> None:
    repeat = int(os.environ.get("REPEAT", "60"))
    print(f"load average at start: {os.getloadavg()}")
    # Debian's interpreter itself: `python3` on PATH may be a version
    # manager's shim, which adds its own start-up (~100 ms here).
    floor = measure(lambda: subprocess.run(["/usr/bin/python3", "-c", "pass"], check=True), 30)
    server = ProbedServer(
        runs_per_minute="100000", concurrent_runs_per_user="100", warm_interpreter="true"
    )
    server.start()
    try:
        user = User(server)
        workspace = user.workspace("overhead")
        url = f"/api/workspaces/{workspace}/runs?wait=true"

        def run() -> dict[str, object]:
            answer = user.client.post(url, json={"code": "print('hi')"})
            assert answer.status_code == 200, answer.text
            body: dict[str, object] = answer.json()
            assert body["stdout"] == "hi\n", body
            return body

        deadline = time.monotonic() + WARM_DEADLINE_S
        while run()["interpreter"] != "warm":
            assert time.monotonic() < deadline, "no warm run within the deadline"
            time.sleep(0.5)
        for _ in range(5):
            run()
        health = measure(lambda: user.client.get("/api/health"), 60)
        before = _lines(server.traces)
        totals, durations = [], []
        for _ in range(repeat):
            began = time.perf_counter()
            body = run()
            totals.append((time.perf_counter() - began) * 1000)
            assert body["interpreter"] == "warm", body
            durations.append(float(str(body["duration_ms"])))
        wait_for(lambda: _lines(server.traces) >= before + repeat, 10, "the traces")
        traces = [json.loads(line) for line in server.traces.read_text().splitlines()[before:]]
        report(floor, health, totals, durations, traces)
        user.close()
    finally:
        server.close()
    print(f"load average at end: {os.getloadavg()}")


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def report(
    floor: list[float],
    health: list[float],
    totals: list[float],
    durations: list[float],
    traces: list[dict[str, float]],
) -> None:
    def part(key: str) -> list[float]:
        return [t.get(key, 0.0) for t in traces]

    def diff(a: list[float], *minus: list[float]) -> list[float]:
        return [x - sum(m[i] for m in minus) for i, x in enumerate(a)]

    app, execute, exec_ = part("app"), part("execute"), part("exec")
    start, record = part("start"), part("record")
    db_request = part("db_request")
    rest = diff(app, start, execute, record, db_request)
    rows = [
        ("client: POST .../runs?wait=true, whole", totals),
        ("  outside the app (uvicorn's HTTP, loopback, the client)", diff(totals, app)),
        ("  in the app (ASGI call to last byte)", app),
        ("    start: admission, rate limits, insert the run", start),
        ("      of which database", part("db_start")),
        ("    exec: agent round trip, warm fork, gate, go", exec_),
        # Zero for a run forked from a spare confined before it came (agent_spare.py).
        ("      the run's cgroup leaf made (worker thread)", part("leaf")),
        ("      spawn: the agent forks it warm and answers", part("spawn")),
        ("      its host pid found (worker thread)", part("find")),
        ("      moved into its leaf (worker thread)", part("confine")),
        ("    the program, until the agent reports its exit", part("wait")),
        ("    what is left in its leaf killed (worker thread)", part("kill")),
        ("    its leaf removed on the run's path (now after the answer)", part("remove")),
        (
            "    the rest of the executor (output drained, tasks)",
            diff(execute, exec_, part("wait"), part("kill"), part("remove")),
        ),
        ("    record: write the finished run, prune", record),
        ("      of which database", part("db_record")),
        ("    database in the request (auth, ownership, read back)", db_request),
        ("    the rest (routing, validation, JSON, event loop)", rest),
        ("after the answer: the app's clean-up (off the client's time)", part("after")),
        ("the run's own duration_ms (as recorded)", durations),
        ("baseline: GET /api/health through the same client", health),
        ("floor: host /usr/bin/python3 -c pass", floor),
    ]
    table = [(name, f"{percentile(s, 50):.2f}", f"{percentile(s, 90):.2f}") for name, s in rows]
    print(f"{len(totals)} warm runs of print('hi'), one at a time; milliseconds")
    print_table(("part", "p50", "p90"), table)
    ratio = percentile(totals, 50) / percentile(floor, 50)
    print(f"\nwarm print('hi') p50 = {ratio:.2f}x the floor")
