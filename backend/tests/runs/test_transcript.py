"""A run's transcript: segments from its output log, stored, and replayed from the record."""

from __future__ import annotations

import pytest

from sandpit.runs import transcript
from sandpit.runs.output import Cursor, Image, RunOutput, Text
from sandpit.runs.transcript import Segment, decode, encode, replay, segments_of, snapshot
from tests.runs.test_live import joined


def recorded(output: RunOutput) -> dict[str, str]:
    """The texts as the record keeps them (decoded whole, as the service does)."""
    return {
        "stdout": output.record("stdout").decode("utf-8", "replace"),
        "stderr": output.record("stderr").decode("utf-8", "replace"),
        "stdin": output.typed.decode("utf-8", "replace"),
    }


def sample() -> RunOutput:
    output = RunOutput(limit=1000)
    euro = "€".encode()
    output.add("stdout", b"price: " + euro[:1])  # a character cut between reads
    output.add("stdout", euro[1:] + b"\n")
    output.add("stderr", "warnung: ä\n".encode())
    output.add_image(b"png")
    output.echo("42 🐍\n".encode())
    output.add("stdout", b"done\n")
    output.add_image(b"png")
    output.end()
    return output


def test_segments_end_in_code_points_of_each_stream() -> None:
    assert segments_of(sample()) == [
        Segment("stdout", len("price: €\n")),
        Segment("stderr", len("warnung: ä\n")),
        Segment("image", 1),
        Segment("stdin", len("42 🐍\n")),
        Segment("stdout", len("price: €\ndone\n")),
        Segment("image", 2),
    ]


def test_the_record_replays_as_a_follower_saw_it() -> None:
    output = sample()
    live = joined(list(Cursor(output).take()))
    stored = decode(encode(segments_of(output)))
    assert joined(list(replay(recorded(output), len(output.images), stored))) == live
    assert live == [
        Text("stdout", "price: €\n"),
        Text("stderr", "warnung: ä\n"),
        Image(0),
        Text("stdin", "42 🐍\n"),
        Text("stdout", "done\n"),
        Image(1),
    ]


def test_without_segments_the_streams_come_one_after_the_other() -> None:
    output = sample()
    assert joined(list(replay(recorded(output), 2, None))) == [
        Text("stdout", "price: €\ndone\n"),
        Text("stderr", "warnung: ä\n"),
        Text("stdin", "42 🐍\n"),
        Image(0),
        Image(1),
    ]


def test_past_the_segment_cap_the_rest_follows_and_nothing_is_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transcript, "MAX_SEGMENTS", 3)
    output = RunOutput(limit=1000)
    for i in range(4):
        output.add("stdout", f"o{i}".encode())
        output.add("stderr", f"e{i}".encode())
    output.end()
    segments = segments_of(output)
    assert segments == [Segment("stdout", 2), Segment("stderr", 2), Segment("stdout", 4)]
    assert joined(list(replay(recorded(output), 0, segments))) == [
        Text("stdout", "o0"),
        Text("stderr", "e0"),
        Text("stdout", "o1o2o3"),
        Text("stderr", "e1e2e3"),
    ]


@pytest.mark.parametrize("stored", [None, "", "not json", "[1, 2]", '{"a": 1}'])
def test_nothing_or_garbage_stored_reads_as_no_segments(stored: str | None) -> None:
    assert decode(stored) is None


def test_unknown_kinds_are_skipped_and_ends_past_the_text_are_clamped() -> None:
    segments = decode('[["stdout", 3], ["video", 9], ["stderr", 99]]')
    assert segments == [Segment("stdout", 3), Segment("stderr", 99)]
    texts = {"stdout": "abcdef", "stderr": "xy", "stdin": ""}
    assert joined(list(replay(texts, 0, segments))) == [
        Text("stdout", "abc"),
        Text("stderr", "xy"),
        Text("stdout", "def"),
    ]


def test_a_look_while_it_runs_leaves_a_cut_character_for_later() -> None:
    output = RunOutput(limit=1000)
    output.add("stdout", "a€".encode()[:2])  # "a" and the first byte of "€"
    running = snapshot(output, final=False)
    assert (running.texts["stdout"], running.segments) == ("a", [Segment("stdout", 1)])
    ended = snapshot(output, final=True)  # as the record decodes it
    assert ended.texts["stdout"] == "a\ufffd" == output.record("stdout").decode("utf-8", "replace")
    assert ended.segments == [Segment("stdout", 2)]
