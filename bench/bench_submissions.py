"""Submissions end to end on a real server (issue 14): Submit → results, and a deadline burst.

Everything through the API, as a browser would see it, with the check queue
and the real grader (a fresh bubblewrap sandbox per check):
1. one student, SAMPLES submissions one after the other of a 10-test
   assignment (hidden tests, a correct solution): the time from
   `POST .../submissions` to the submission's checks answering `done`
   (polled every 50 ms), p50 and p95;
2. a deadline burst: BURST submissions by 10 students within seconds, with
   `CHECKS_CONCURRENCY` 1 and 2: how long until the last is checked (the
   queue's throughput, submissions a minute) and a bystander's `print(1)`
   run latency meanwhile (p50, p95, worst): whether the machine stays
   responsive to everyone else.

Usage: backend/.venv/bin/python bench/run.py submissions
       (SUBMIT_SAMPLES=20, SUBMIT_BURST=60 from the environment)
Run as root with the runtime image built (`make setup-test`). The machine may
be shared: say so beside the figures.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time

import httpx
from common import percentile, print_table
from tests.conftest import User
from tests.review.helpers import create_assignment, set_role, start, submit, write
from tests.servers import SandpitServer

TESTS = 10
HIDDEN = {
    "tests/test_numbers.py": "import pytest\n\nfrom solution import square\n\n"
    + "".join(
        f"\n@pytest.mark.points({1 + n % 3})\ndef test_square_{n}():\n"
        f"    assert square({n}) == {n * n}\n"
        for n in range(TESTS)
    )
}
SOLUTION = "def square(x):\n    return x * x\n"
SAMPLES = int(os.environ.get("SUBMIT_SAMPLES", "20"))
BURST = int(os.environ.get("SUBMIT_BURST", "60"))


def _done(client: httpx.Client, sid: str) -> None:
    """Wait until the submission's checks are done (full marks expected)."""
    while True:
        checks = client.get(f"/api/submissions/{sid}").json()["checks"]
        if checks["status"] in ("done", "error"):
            assert checks["status"] == "done", checks
            assert checks["score"] == checks["max_score"], checks
            return
        time.sleep(0.05)


def _setup(server: SandpitServer, students: int) -> tuple[User, str, list[tuple[User, str]]]:
    reviewer = User(server)
    set_role(server, reviewer, "reviewer")
    made = create_assignment(
        reviewer.client, tests=HIDDEN, visible_tests={}, starter={"solution.py": SOLUTION}
    )
    spaces = []
    for _ in range(students):
        student = User(server)
        ws = start(student.client, made["id"])
        write(student.client, ws, "solution.py", SOLUTION)
        spaces.append((student, ws))
    return reviewer, made["id"], spaces


def submit_to_results() -> tuple[str, ...]:
    server = SandpitServer(submissions_per_minute="1000")
    server.start()
    try:
        _, _, [(student, ws)] = _setup(server, 1)
        times = []
        for _ in range(SAMPLES):
            began = time.perf_counter()
            _done(student.client, submit(student.client, ws)["id"])
            times.append(time.perf_counter() - began)
        return (
            f"{TESTS} tests, one at a time",
            str(SAMPLES),
            f"{percentile(times, 50):.2f} s",
            f"{percentile(times, 95):.2f} s",
        )
    finally:
        server.close()


def burst(concurrency: int) -> tuple[str, ...]:
    server = SandpitServer(
        checks_concurrency=str(concurrency), submissions_per_minute="1000", runs_per_minute="10000"
    )
    server.start()
    try:
        _, _, spaces = _setup(server, 10)
        bystander = User(server)
        mine = bystander.workspace()
        latencies: list[float] = []
        stop = threading.Event()

        def run_now_and_then() -> None:
            while not stop.is_set():
                began = time.perf_counter()
                answer = bystander.client.post(
                    f"/api/workspaces/{mine}/runs",
                    params={"wait": "true"},
                    json={"code": "print(1)"},
                )
                assert answer.status_code == 200, answer.text
                latencies.append(time.perf_counter() - began)
                stop.wait(0.5)

        watcher = threading.Thread(target=run_now_and_then)
        watcher.start()
        per_student = BURST // len(spaces)

        def submit_all(pair: tuple[User, str]) -> list[tuple[User, str]]:
            student, ws = pair
            return [(student, submit(student.client, ws)["id"]) for _ in range(per_student)]

        began = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(spaces)) as pool:
            made = [item for items in pool.map(submit_all, spaces) for item in items]
        submitted = time.perf_counter() - began
        for student, sid in made:
            _done(student.client, sid)
        took = time.perf_counter() - began
        stop.set()
        watcher.join()
        return (
            f"{len(made)} in {submitted:.1f} s, {concurrency} at once",
            f"{took:.0f} s",
            f"{len(made) / took * 60:.0f}",
            f"{percentile(latencies, 50) * 1000:.0f} / {percentile(latencies, 95) * 1000:.0f} / "
            f"{max(latencies) * 1000:.0f} ms",
        )
    finally:
        server.close()


def main() -> None:
    print_table(("Submit → results", "samples", "p50", "p95"), [submit_to_results()])
    print()
    print_table(
        ("deadline burst", "all checked after", "a minute", "bystander run p50 / p95 / worst"),
        [burst(1), burst(2)],
    )


if __name__ == "__main__":
    main()
