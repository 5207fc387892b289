"""A run as every client is shown it, built in one place.

Every answer that carries a run (`GET /api/runs/{id}`, a workspace's list of
runs, a stop, `?wait=true`, the `end` event of a run's stream) is
`run_view(run, live)` put into the API's schema, nothing more: the record,
with, while the run runs, its output so far and whether it takes input.
The output is a `transcript.Snapshot`: stdout, stderr and typed input whole,
their segments, and the pieces they cut, in the order they came, so a
client shows what it gets and cuts nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandpit.db.models import Run
from sandpit.runs import transcript
from sandpit.runs.live import LiveRun


@dataclass(frozen=True)
class RunView:
    """A run as clients are shown it.

    `run`: the record (status, exit code, duration, message, times);
    `output`: its output, so far while it runs; `input_open`: whether
    `POST /api/runs/{id}/stdin` takes input now.
    """

    run: Run
    output: transcript.Snapshot
    input_open: bool


def run_view(run: Run, live: LiveRun | None) -> RunView:
    """`run` as clients are shown it; `live` is its `LiveRun`, if the service has one.

    While the record says `running` and the live run is there, the output is
    what came so far (a character whose bytes are still cut at the end waits
    for the rest) and the input is the live run's; otherwise, the output is
    the record's and the input is closed. Reads only memory: never waits.
    """
    if live is not None and run.status == "running":
        return RunView(run, transcript.snapshot(live.output, final=False), live.input.open)
    return RunView(run, transcript.recorded(run), input_open=False)
