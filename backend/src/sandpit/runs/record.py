"""What a run's record says when it ends, and the outcomes of runs that never finished.

`RunService` writes `finished_values` in one statement at a run's end; a
run stopped by its user (`stopped`) or refused a sandbox (`failure`) is
recorded through the same path, with an outcome made here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sandpit.runs import transcript
from sandpit.runs.executor import STOPPED_MESSAGE, RunOutcome
from sandpit.runs.interpreter import describe
from sandpit.runs.live import LiveRun


def finished_values(outcome: RunOutcome, *, warm: bool) -> dict[str, Any]:
    """The `Run` columns a run's end sets; `warm` is whether warm interpreters are on."""
    interpreter, interpreter_note = describe(outcome.interpreter, enabled=warm)
    finished: dict[str, Any] = {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "stdout": outcome.stdout.decode("utf-8", "replace"),
        "stderr": outcome.stderr.decode("utf-8", "replace"),
        "truncated": outcome.truncated,
        "duration_ms": outcome.duration_ms,
        "images": outcome.images,
        "message": outcome.message,
        "segments": transcript.encode(outcome.segments),
        "typed": outcome.typed.decode("utf-8", "replace"),
        "interpreter": interpreter,
        "interpreter_note": interpreter_note,
        "finished_at": datetime.now(UTC),
    }
    finished["stored_bytes"] = _record_bytes(finished) + outcome.plot_bytes
    return finished


def _record_bytes(finished: dict[str, Any]) -> int:
    """What a finished run's record takes in the database, roughly: its texts."""
    texts = ("stdout", "stderr", "segments", "typed", "message")
    return sum(len((finished[name] or "").encode()) for name in texts)


def stopped(live: LiveRun) -> RunOutcome:
    """A stopped run keeps what it printed and showed (its followers saw it already)."""
    output = live.output
    return RunOutcome(
        status="killed",
        exit_code=None,
        stdout=output.record("stdout"),
        stderr=output.record("stderr"),
        truncated=output.truncated,
        duration_ms=int((time.monotonic() - live.started) * 1000),
        images=len(output.images),
        plot_bytes=output.images.bytes_stored,
        message=STOPPED_MESSAGE,
        segments=transcript.segments_of(output),
        typed=output.typed,
    )


def failure(message: str) -> RunOutcome:
    """A run that could not execute: an error with `message` and no output."""
    return RunOutcome(
        status="error",
        exit_code=None,
        stdout=b"",
        stderr=b"",
        truncated=False,
        duration_ms=0,
        message=message,
    )
