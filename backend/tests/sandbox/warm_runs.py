"""Helpers for the warm-interpreter tests: run a workspace file both ways, wait for warm.

A run goes through the real executor (`sandpit.runs.executor.execute`)
into a real sandbox, as the run service sends it: the run environment, the
plot channel, the output cap, the time limit; `warm=True` asks the sandbox
to fork it from its warm interpreter (`RunOutcome.interpreter` says whether
it did), `warm=False` runs it fresh.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from sandpit.config import Settings
from sandpit.runs.executor import RunOutcome, RunRequest, execute
from sandpit.runs.output import RunOutput
from sandpit.sandbox.base import Sandbox
from sandpit.sandbox.environment import run_env

PROGRAMS = Path(__file__).parent / "warm_programs"
PRELOAD = tuple(Settings.model_fields["warm_preload"].default)
# Importing the preload set takes seconds on an idle machine, far more on a busy one.
WARM_DEADLINE_S = 180.0


async def run_file(
    sandbox: Sandbox,
    path: str,
    *,
    warm: bool,
    stdin: bytes = b"",
    timeout_s: float = 30.0,
    output_bytes: int = 1024 * 1024,
    env: dict[str, str] | None = None,
    plots: list[bytes] | None = None,
) -> RunOutcome:
    """Run workspace file `path` as the Run button does, warm if asked and possible.

    The plots it shows are appended to `plots` when given (kept in memory here)."""
    request = RunRequest(
        path=path,
        code=None,
        stdin=stdin,
        timeout_s=timeout_s,
        output_bytes=output_bytes,
        env=env if env is not None else run_env(1.0),
        warm=PRELOAD if warm else None,
    )
    output = RunOutput(output_bytes)
    outcome = await execute(sandbox, f"run-{uuid.uuid4().hex[:12]}", request, output)
    if plots is not None:
        plots.extend(output.images.in_memory())
    return outcome


async def run_code(sandbox: Sandbox, code: str, *, warm: bool) -> RunOutcome:
    """Run a code string (the code runner), warm if asked and possible."""
    request = RunRequest(
        path=None,
        code=code,
        stdin=b"",
        timeout_s=30.0,
        output_bytes=1024 * 1024,
        env=run_env(1.0),
        warm=PRELOAD if warm else None,
    )
    return await execute(sandbox, f"run-{uuid.uuid4().hex[:12]}", request)


def is_warm(outcome: RunOutcome) -> bool:
    return outcome.interpreter is not None and outcome.interpreter.warm


async def until_warm(
    sandbox: Sandbox, workspace: Path, deadline_s: float = WARM_DEADLINE_S
) -> float:
    """Run a trivial file until a run is forked warm; return the seconds it took.

    The first run that asks starts the warm interpreter once it has ended;
    it is then ready after its imports. Fails the test past the deadline.
    """
    (workspace / "_probe.py").write_text("print('probe')\n")
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        outcome = await run_file(sandbox, "_probe.py", warm=True)
        assert outcome.status == "ok", outcome
        if is_warm(outcome):
            (workspace / "_probe.py").unlink()
            return time.monotonic() - started
        # Not ready yet, or being restarted: anything else is a bug to show now.
        assert outcome.interpreter is not None, outcome
        assert outcome.interpreter.why in ("starting", "unavailable"), outcome.interpreter
        await _pause()
    raise AssertionError(f"no warm run within {deadline_s} s: {outcome.interpreter}")


async def _pause() -> None:
    # Polling with a deadline (not a fixed wait for a result): each probe is a run.
    import asyncio

    await asyncio.sleep(0.25)


def copy_programs(workspace: Path) -> list[str]:
    """Copy the parity programs into `workspace`; their paths relative to it."""
    shutil.copytree(PROGRAMS, workspace, dirs_exist_ok=True)
    return sorted(str(p.relative_to(PROGRAMS)) for p in PROGRAMS.rglob("*.py"))
