"""A submission's automated checks (issue 14): time to results, and submissions a minute.

The real runner (`sandpit.grading.runner.grade`) on the bubblewrap backend,
as the check queue calls it, for an assignment of 10 hidden tests (plus
ruff) and a correct solution, with the seed's limits:
1. one at a time, SAMPLES times: the time from the call to the result
   (fresh sandbox, copy, ruff, pytest, stop). The queue's own wait and the
   API's answer come on top (milliseconds when the queue is empty);
2. BURST submissions through at most CONCURRENCY checks at once (the
   queue's limit, `CHECKS_CONCURRENCY`), for submissions a minute, while a
   bystander's sandbox runs `print(1)` every half second: its latency says
   whether the machine stays responsive to everyone else.

Usage: backend/.venv/bin/python bench/run.py checks
       (SAMPLES, BURST and CONCURRENCY from the environment: CHECKS_SAMPLES=20,
        CHECKS_BURST=12, CHECKS_CONCURRENCY=1,2)
Run as root (cgroups, host uids), with the runtime image built (`make setup-test`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from common import percentile, print_table, row
from tests.sandbox.bubblewrap_harness import BubblewrapHarness
from tests.sandbox.conftest import Workspaces, data_dir, spec_for
from tests.sandbox.processes import run

from sandpit.grading.runner import grade
from sandpit.runtime.image import find_image
from sandpit.sandbox.base import Sandbox, SandboxBackend
from sandpit.sandbox.limits import Limits

TESTS = 10
HIDDEN = {
    "test_numbers.py": "import pytest\n\nfrom solution import square\n\n"
    + "".join(
        f"\n@pytest.mark.points({1 + n % 3})\ndef test_square_{n}():\n"
        f"    assert square({n}) == {n * n}\n"
        for n in range(TESTS)
    )
}
SOLUTION = "def square(x):\n    return x * x\n"


async def one(backend: SandboxBackend, scratch: Path, submission: Path) -> float:
    """Seconds from the call to a full-marks result."""
    start = time.perf_counter()
    result = await grade(
        backend,
        submission_dir=submission,
        hidden_tests=HIDDEN,
        visible_tests={},
        limits=Limits(),
        timeout_s=60,
        work_dir=scratch / uuid.uuid4().hex,
        sandbox_id=uuid.uuid4().hex[:20],
        owner="bench",
    )
    elapsed = time.perf_counter() - start
    if result.score != result.max_score or len(result.tests) != TESTS:
        raise RuntimeError(f"the correct solution did not score full marks: {result.to_json()}")
    return elapsed


async def bystander(sandbox: Sandbox, stop: asyncio.Event, latencies: list[float]) -> None:
    """`print(1)` in another sandbox every half second until `stop`; each one's milliseconds."""
    while not stop.is_set():
        start = time.perf_counter()
        result = await run(sandbox, "print(1)", timeout=30)
        if result.code == 0:
            latencies.append((time.perf_counter() - start) * 1000)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


async def burst(
    backend: SandboxBackend, scratch: Path, submission: Path, count: int, concurrency: int
) -> tuple[float, list[float], list[float]]:
    """(submissions a minute, each one's seconds from its submission, the bystander's ms)."""
    gate = asyncio.Semaphore(concurrency)
    workspaces = Workspaces()
    other = await backend.start(spec_for(workspaces.new(), Limits()))
    latencies: list[float] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(bystander(other, stop, latencies))
    start = time.perf_counter()

    async def queued() -> float:
        async with gate:
            await one(backend, scratch, submission)
        return time.perf_counter() - start  # all were submitted at `start`

    try:
        waits = await asyncio.gather(*(queued() for _ in range(count)))
    finally:
        stop.set()
        await watcher
        await other.stop()
        workspaces.remove()
    total = time.perf_counter() - start
    return count / total * 60, list(waits), latencies


def make_scratch() -> tuple[Path, Path]:
    """A directory a sandbox's host uid can search, holding the submission."""
    scratch = Path(tempfile.mkdtemp(prefix="sandpit-bench-checks-"))
    scratch.chmod(0o711)
    submission = scratch / "submission"
    submission.mkdir()
    (submission / "solution.py").write_text(SOLUTION)
    return scratch, submission


async def main_async() -> None:
    samples = int(os.environ.get("CHECKS_SAMPLES", "20"))
    count = int(os.environ.get("CHECKS_BURST", "12"))
    levels = [int(n) for n in os.environ.get("CHECKS_CONCURRENCY", "1,2").split(",")]
    image = find_image(data_dir())
    if image is None:
        raise SystemExit("no runtime image: run `make setup-test` first")
    scratch, submission = make_scratch()
    harness = BubblewrapHarness(image.rootfs, scratch / "state")
    backend = harness.make()
    try:
        await one(backend, scratch, submission)  # warm-up: page cache, the launcher
        times = [await one(backend, scratch, submission) * 1000 for _ in range(samples)]
        print(f"One check at a time, {TESTS} tests + ruff, fresh sandbox each (ms):\n")
        print_table(("case", "n", "p50", "p95", "mean"), [row("call to result", times)])
        rows = []
        for concurrency in levels:
            per_minute, waits, latencies = await burst(
                backend, scratch, submission, count, concurrency
            )
            rows.append(
                (
                    str(concurrency),
                    str(count),
                    f"{per_minute:.1f}",
                    f"{percentile(waits, 50):.1f}",
                    f"{percentile(waits, 95):.1f}",
                    f"{percentile(latencies, 50):.0f}" if latencies else "-",
                    f"{percentile(latencies, 95):.0f}" if latencies else "-",
                )
            )
        print(f"\n{count} submitted at once, at most N checked at a time:\n")
        print_table(
            (
                "N",
                "checks",
                "per minute",
                "result p50 s",
                "result p95 s",
                "bystander p50 ms",
                "bystander p95 ms",
            ),
            rows,
        )
    finally:
        await backend.close()
        harness.close()
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    asyncio.run(main_async())


if __name__ == "__main__":
    main()
