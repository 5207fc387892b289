"""A run's view (`run_view`): what every answer carrying a run shows, live or recorded."""

from __future__ import annotations

from itertools import chain

from sandpit.db.models import Run
from sandpit.runs import output as output_module
from sandpit.runs import transcript
from sandpit.runs.live import LiveRun
from sandpit.runs.output import Cursor, Image, RunOutput, Text
from sandpit.runs.view import run_view
from tests.runs.test_live import joined


def record(output: RunOutput, status: str = "ok", **fields: object) -> Run:
    """The run as the service records it when `output` has ended."""
    return Run(
        id="r",
        workspace_id="w",
        user_id="u",
        path="main.py",
        status=status,
        exit_code=0,
        stdout=output.record("stdout").decode("utf-8", "replace"),
        stderr=output.record("stderr").decode("utf-8", "replace"),
        truncated=output.truncated,
        images=len(output.images),
        segments=transcript.encode(transcript.segments_of(output)),
        typed=output.typed.decode("utf-8", "replace"),
        **fields,
    )


def running() -> Run:
    """A run as recorded when it started."""
    return Run(
        id="r",
        workspace_id="w",
        user_id="u",
        path="main.py",
        status="running",
        stdout="",
        stderr="",
        truncated=False,
        images=0,
    )


def asking(live: LiveRun) -> None:
    """A program that asks twice, is answered once, warns and plots meanwhile."""
    live.output.add("stdout", b"Your name? ")
    live.send(b"Ada\n")
    live.output.add("stderr", b"warning: \xc3\xa4\n")
    live.output.add_image(b"png")
    live.output.add("stdout", b"Hello Ada\nYour age? ")


ASKED = [
    Text("stdout", "Your name? "),
    Text("stdin", "Ada\n"),
    Text("stderr", "warning: ä\n"),
    Image(0),
    Text("stdout", "Hello Ada\nYour age? "),
]


def test_a_running_run_shows_its_output_so_far_in_order_and_takes_input() -> None:
    live = LiveRun("r", 1000, b"", interactive=True)
    asking(live)
    view = run_view(running(), live)
    assert view.input_open
    assert view.output.pieces == ASKED
    assert view.output.texts == {
        "stdout": "Your name? Hello Ada\nYour age? ",
        "stderr": "warning: ä\n",
        "stdin": "Ada\n",
    }
    assert view.output.images == 1


def test_while_it_runs_a_character_cut_at_the_end_waits_for_its_other_bytes() -> None:
    live = LiveRun("r", 1000, b"", interactive=False)
    live.output.add("stdout", "a€".encode()[:2])
    view = run_view(running(), live)
    assert view.output.pieces == [Text("stdout", "a")]
    assert not view.input_open


def test_the_record_shows_what_the_live_run_showed() -> None:
    live = LiveRun("r", 1000, b"", interactive=True)
    asking(live)
    before = run_view(running(), live)
    live.finish()
    after = run_view(record(live.output), None)
    assert after.output == before.output
    assert not after.input_open


def test_a_recorded_run_ignores_a_live_run_still_held_for_it() -> None:
    # Between recording the end and dropping the live run, the record is what counts.
    live = LiveRun("r", 1000, b"", interactive=True)
    asking(live)
    finished = record(live.output, status="ok")
    live.output.add("stdout", b"late")
    view = run_view(finished, live)
    assert view.output.pieces == ASKED
    assert not view.input_open


def test_a_run_that_lost_its_live_run_shows_its_record_with_the_input_closed() -> None:
    live = LiveRun("r", 1000, b"", interactive=True)
    asking(live)
    view = run_view(running(), None)
    assert view.output.pieces == []
    assert not view.input_open


def test_a_run_recorded_before_segments_were_kept_shows_its_streams_one_after_another() -> None:
    old = Run(
        id="r",
        workspace_id="w",
        user_id="u",
        path=None,
        status="error",
        stdout="out\n",
        stderr="err\n",
        truncated=False,
        images=1,
        segments=None,
        typed=None,
    )
    view = run_view(old, None)
    assert view.output.segments is None
    assert view.output.pieces == [Text("stdout", "out\n"), Text("stderr", "err\n"), Image(0)]


def test_past_the_segment_cap_the_record_replays_as_a_follower_saw_it() -> None:
    # One cap for the log and the record: a follower that reconnects after the
    # end resumes at a position of the record's replay, which must be the
    # same sequence the live stream gave.
    assert transcript.MAX_SEGMENTS == output_module.MAX_SEGMENTS
    switches = output_module.MAX_SEGMENTS + 10
    output = RunOutput(limit=4 * switches)
    for i in range(switches):
        output.add("stdout", b"o")
        output.add("stderr", b"e")
        if i % 1000 == 0:
            output.echo(b"i")
    output.end()
    cursor = Cursor(output)
    followed = joined(list(chain(cursor.take(), cursor.rest())))
    view = run_view(record(output), None)
    texts, segments = view.output.texts, view.output.segments
    assert view.output.pieces == followed
    assert joined(list(transcript.replay(texts, 0, segments))) == followed
    assert segments is not None
    assert len(segments) == output_module.MAX_SEGMENTS
