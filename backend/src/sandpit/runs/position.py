"""Positions in a run's output, so a follower that reconnects goes on where it was.

A run's output is one sequence, in the order it came: every character of
stdout, stderr and typed input counts one, and every plot counts one. The
live stream (`live.follow`) and the replay of a finished run's record
(`transcript.replay`) give the same sequence, cut into different pieces, so
a position taken from either holds in both: a follower that lost its
connection while the run ran, and comes back after it ended, gets the rest
from the record.

`after(events, position)` passes the events of a stream on with the
position each output event ends at (the server-sent event's `id`, which a
browser sends back as `Last-Event-ID` when it reconnects), leaving out the
first `position` units of output. Events that are not output (the start,
input opening or closing, the end) always pass and carry no position.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeVar

from sandpit.runs.output import Image, Text

# Longer than any output a run may keep (its cap is in bytes, each at least
# one character), so a larger "position" is not one this server gave.
MAX_POSITION = 10**12

Event = TypeVar("Event")


def parse(value: str | None) -> int:
    """The position a `Last-Event-ID` names: 0 when absent. Raises `ValueError` otherwise."""
    if value is None or value == "":
        return 0
    too_long = len(value) > len(str(MAX_POSITION))
    if not value.isascii() or not value.isdigit() or too_long or int(value) > MAX_POSITION:
        raise ValueError(f"not a position in a run's output: {value!r}")
    return int(value)


def size(event: object) -> int:
    """How many units of output `event` is (0 for what is not output)."""
    if isinstance(event, Text):
        return len(event.text)
    if isinstance(event, Image):
        return 1
    return 0


async def after(
    events: AsyncIterator[Event], position: int
) -> AsyncIterator[tuple[Event | Text, int | None]]:
    """`events` without the first `position` units of output, each output event
    with the position it ends at; a text that straddles `position` is cut there."""
    at = 0
    async for event in events:
        units = size(event)
        if units == 0:
            yield event, None
            continue
        end = at + units
        if end <= position:
            at = end
            continue
        if at < position and isinstance(event, Text):
            yield Text(event.stream, event.text[position - at :]), end
        else:
            yield event, end
        at = end
