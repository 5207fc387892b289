"""Positions in a run's output (`sandpit.runs.position`): pure logic, no sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandpit.runs import position
from sandpit.runs.live import InputState, Started
from sandpit.runs.output import Image, Text

EVENTS: list[object] = [
    Started(input_open=True),
    Text("stdout", "héllo 🌍\n"),  # 8 characters, 12 bytes
    Image(0),
    InputState(open=False),
    Text("stderr", "err\n"),
]


async def replayed(events: list[object]) -> AsyncIterator[object]:
    for event in events:
        yield event


async def resumed(after: int) -> list[tuple[object, int | None]]:
    return [pair async for pair in position.after(replayed(EVENTS), after)]


async def test_from_the_start_every_output_event_carries_where_it_ends() -> None:
    assert await resumed(0) == [
        (Started(input_open=True), None),
        (Text("stdout", "héllo 🌍\n"), 8),
        (Image(0), 9),
        (InputState(open=False), None),
        (Text("stderr", "err\n"), 13),
    ]


async def test_resuming_leaves_out_what_was_seen_and_cuts_a_text_in_characters() -> None:
    assert await resumed(6) == [
        (Started(input_open=True), None),
        (Text("stdout", "🌍\n"), 8),
        (Image(0), 9),
        (InputState(open=False), None),
        (Text("stderr", "err\n"), 13),
    ]
    assert await resumed(9) == [
        (Started(input_open=True), None),
        (InputState(open=False), None),
        (Text("stderr", "err\n"), 13),
    ]


async def test_a_position_past_the_end_leaves_only_what_is_not_output() -> None:
    assert await resumed(100) == [
        (Started(input_open=True), None),
        (InputState(open=False), None),
    ]


@pytest.mark.parametrize(("header", "expected"), [(None, 0), ("", 0), ("0", 0), ("123", 123)])
def test_parse_accepts_what_the_stream_gave(header: str | None, expected: int) -> None:
    assert position.parse(header) == expected


@pytest.mark.parametrize("header", ["-1", "1.5", "abc", " 1", "١٢", "9" * 14, "1e3"])
def test_parse_refuses_anything_else(header: str) -> None:
    with pytest.raises(ValueError, match="not a position"):
        position.parse(header)
