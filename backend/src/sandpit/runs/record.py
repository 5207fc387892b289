"""What a run's record says when it ends, its writing, and the outcomes of runs that never
finished.

`RunService` writes a run's end with `write`: its `finished_values` in one
statement and the workspace's old runs pruned, in one transaction. A run
stopped by its user (`stopped`) or refused a sandbox (`failure`) is recorded
through the same path, with an outcome made here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandpit.db.models import Run
from sandpit.runs import retention, transcript
from sandpit.runs.executor import STOPPED_MESSAGE, RunOutcome
from sandpit.runs.interpreter import describe
from sandpit.runs.live import LiveRun

# The columns a run's start fixes; its end sets the others (`FINISHED_COLUMNS`).
_START_COLUMNS = ("id", "workspace_id", "user_id", "path", "created_at")
FINISHED_COLUMNS = (
    "status",
    "exit_code",
    "stdout",
    "stderr",
    "truncated",
    "duration_ms",
    "images",
    "message",
    "segments",
    "typed",
    "interpreter",
    "interpreter_note",
    "finished_at",
    "stored_bytes",
)
_RUNS = Run.metadata.tables[Run.__tablename__]
# Built once and run with parameters: a new `update(Run)...values(...)` per
# run cost SQLAlchemy 1 ms to build, key and compile (0.35 ms this way,
# measured on SQLite). Typed as the columns are (`finished_at` is UTC).
_WRITE_END = (
    update(_RUNS)
    .where(_RUNS.c.id == bindparam("run_id"))
    .values({name: bindparam(name, type_=_RUNS.c[name].type) for name in FINISHED_COLUMNS})
)


def start_values(run: Run) -> dict[str, Any]:
    """The columns of a just inserted `run` that its end leaves as they are."""
    return {name: getattr(run, name) for name in _START_COLUMNS}


async def write(
    sessions: async_sessionmaker[AsyncSession],
    start: dict[str, Any],
    finished: dict[str, Any],
    *,
    keep: int,
    max_bytes: int,
) -> tuple[Run | None, list[str]]:
    """Record a run's end and prune its workspace's old runs (`retention`), in one commit.

    `start` is the run's `start_values`, `finished` its `finished_values`.
    Returns the run as now recorded (a new `Run` in no session: what reading
    it back would give, without the read) and the ids pruned that showed plots
    (their folders are to go; `retention.prune`); (None, []) when the run's
    row is gone (its workspace was deleted meanwhile).
    """
    async with sessions() as db:
        connection = await db.connection()
        # One statement, no read first: a run's end is on every run's path.
        written = await connection.execute(_WRITE_END, {"run_id": start["id"], **finished})
        if not written.rowcount:
            await db.rollback()
            return None, []
        with_plots = await retention.prune(
            connection, start["workspace_id"], keep=keep, max_bytes=max_bytes
        )
        await db.commit()
    return Run(**start, **finished), with_plots


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
    assert tuple(finished) == FINISHED_COLUMNS  # what `_WRITE_END` sets, in its order
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
