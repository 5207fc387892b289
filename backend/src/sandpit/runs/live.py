"""A run while it runs: its output so far, its input, and the clients following it.

The service keeps one `LiveRun` per running run, from the moment the run is
recorded until its end is recorded too, so a follower never falls into a
gap between "running" and "finished". `follow()` is one follower: it
replays what came so far, then what comes, then says the run has ended;
it holds a position in the output, not a copy, and waits on nothing but the
output changing, so it can neither hold the run back nor grow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from sandpit.errors import Conflict, PayloadTooLarge
from sandpit.runs.output import Cursor, Image, RunOutput, Text
from sandpit.runs.plots import PlotStore
from sandpit.runs.stdin import MAX_PENDING_BYTES, RunInput

# Clients following one run at once (each holds a connection).
MAX_FOLLOWERS = 16
# One `POST /api/runs/{id}/stdin`: a line typed, or a pasted block.
MAX_INPUT_BYTES = 64 * 1024


@dataclass(frozen=True)
class Started:
    """A follower's first event: whether the run takes input now."""

    input_open: bool


@dataclass(frozen=True)
class InputState:
    """The run's input opened or closed (`POST /api/runs/{id}/stdin`)."""

    open: bool


class LiveRun:
    """Legal states: running → ended (`finish()`, once the outcome is recorded)."""

    def __init__(
        self,
        run_id: str,
        output_bytes: int,
        stdin: bytes,
        *,
        interactive: bool,
        plots_dir: Path | None = None,
    ) -> None:
        self.run_id = run_id
        self.interactive = interactive
        self.started = time.monotonic()
        # Plots go to `plots_dir` as they come (`sandpit.runs.plots`), not into memory.
        self.output = RunOutput(output_bytes, PlotStore(plots_dir))
        self.input = RunInput(stdin, keep_open=interactive, on_change=self.output.notify)
        self.followers = 0
        # Set once the program is being started: from then on a stop is
        # `stop.set()` (the executor ends it and keeps all it printed).
        self.executing = False
        self.stop = asyncio.Event()

    @property
    def ended(self) -> bool:
        return self.output.ended

    def take_input(self, text: str, *, eof: bool) -> None:
        """Queue `text` for the program (`send`), then EOF if `eof`.

        Raises `Conflict` when the input is closed and `PayloadTooLarge` for
        over `MAX_INPUT_BYTES` at once or more than the program left unread
        can grow by (`RunInput.room`); nothing is queued then.
        """
        if not self.input.open:
            if not self.interactive:
                raise Conflict(
                    "This run was started without 'interactive': its input was closed "
                    "after the 'stdin' it was given."
                )
            raise Conflict("This run's input is closed (end of file); it takes no more input.")
        data = text.encode()
        if len(data) > MAX_INPUT_BYTES:
            raise PayloadTooLarge("Send at most 64 KiB of input at a time.")
        if len(data) > self.input.room:
            raise PayloadTooLarge(
                f"The program has not read the input sent before; at most "
                f"{MAX_PENDING_BYTES // (1024 * 1024)} MiB may wait for it."
            )
        self.send(data)
        if eof:
            self.input.close()

    def send(self, data: bytes) -> None:
        """Queue `data` for the program and show it in the output as typed input."""
        self.input.write(data)
        self.output.echo(data)

    def finish(self) -> None:
        """The run's end is recorded: followers finish, and no input is taken any more."""
        self.input.close()
        self.output.end()


async def follow(live: LiveRun) -> AsyncIterator[Started | InputState | Text | Image]:
    """Whether input is open, the output so far, then the output as it comes, until `finish()`."""
    output = live.output
    cursor = Cursor(output)
    input_open = live.input.open
    yield Started(input_open)
    while True:
        # Taken before reading: a change while we read (or while a slow
        # client takes what we yield) sets it, and we look again at once.
        changed = output.changed
        for item in cursor.take():
            yield item
        if live.input.open != input_open:
            input_open = live.input.open
            yield InputState(input_open)
        if output.ended:
            break
        await changed.wait()
    for item in cursor.rest():
        yield item
