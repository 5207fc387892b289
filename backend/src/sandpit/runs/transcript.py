"""The order a run's output came in: kept with its record, and shown while it runs.

A run's record keeps stdout and stderr whole but apart; the console shows
them interleaved as they were printed, with the input typed into the run
and its plots where they appeared. A `Snapshot` is a run's output at one
moment: its texts, its segments, each the kind of a piece and where it
ends (for text, in code points of that stream's text: `stdout`, `stderr`,
`stdin` for typed input; for plots, the number shown so far), and the
output cut by them, ready to show (`pieces`). `snapshot` takes one from a
live `RunOutput`, `recorded` from a run's record; both cut with `cut`,
which a late follower's stream (`replay`) uses too, so a reloaded page, a
polling client and a late follower see what the first one saw.

Text past the last segment of its stream (when a run made more than
`MAX_SEGMENTS` of them) follows the segments: stdout, then stderr, then
input. The cap is the output log's own: the log orders that many segments
for the live followers and the record keeps as many, so a finished run
replays as its followers saw it and a position in its output
(`sandpit.runs.position`) means the same in both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from sandpit.db.models import Run
from sandpit.runs.output import (
    EVENT_BYTES,
    KINDS,
    MAX_SEGMENTS,
    STREAMS,
    Cursor,
    Image,
    Kind,
    RunOutput,
    Stream,
    Text,
)


class Segment(NamedTuple):
    """One piece of the output: its kind and where it ends (see above)."""

    kind: Kind
    end: int


@dataclass(frozen=True)
class Snapshot:
    """A run's output at one moment: its texts, their segments, and the texts cut
    by the segments, which agree (no segments: a run recorded before they were
    kept; its pieces are stdout, stderr, typed input, then the plots)."""

    texts: dict[Stream, str]
    segments: list[Segment] | None
    images: int
    truncated: bool
    # Everything in the order it came, consecutive text of one stream joined.
    pieces: list[Text | Image]


def snapshot(output: RunOutput, *, final: bool) -> Snapshot:
    """The texts of `output` so far, their segments (from one pass) and the pieces they cut.

    `final`: nothing more will be added (the run's readers are done), so a
    character cut at the very end is shown as U+FFFD, as the record keeps
    it; otherwise it waits for its other bytes (the next look shows it).
    """
    cursor = Cursor(output)
    texts: dict[Stream, list[str]] = {stream: [] for stream in STREAMS}
    ends = dict.fromkeys(KINDS, 0)
    segments: list[Segment] = []
    full = False
    for item in chain(cursor.take(), cursor.rest(final)):
        kind: Kind
        if isinstance(item, Image):
            kind = "image"
            ends[kind] = item.index + 1
        else:
            kind = item.stream
            texts[kind].append(item.text)
            ends[kind] += len(item.text)
        if full:
            continue  # the rest follows the segments, stream by stream
        if segments and segments[-1].kind == kind:
            segments[-1] = Segment(kind, ends[kind])
        elif len(segments) < MAX_SEGMENTS:
            segments.append(Segment(kind, ends[kind]))
        else:
            full = True
    return _snapshot(
        {stream: "".join(pieces) for stream, pieces in texts.items()},
        segments,
        len(output.images),
        output.truncated,
    )


def segments_of(output: RunOutput) -> list[Segment]:
    """The segments of a run's output once nothing more is added to it."""
    return snapshot(output, final=True).segments or []


def recorded(run: Run) -> Snapshot:
    """A run's output as its record keeps it."""
    texts: dict[Stream, str] = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        "stdin": run.typed or "",
    }
    return _snapshot(texts, decode(run.segments), run.images, run.truncated)


def _snapshot(
    texts: dict[Stream, str], segments: list[Segment] | None, images: int, truncated: bool
) -> Snapshot:
    return Snapshot(texts, segments, images, truncated, cut(texts, images, segments))


def encode(segments: list[Segment]) -> str:
    """For the database: `[["stdout", 12], ["stderr", 30], ...]`."""
    return json.dumps([[segment.kind, segment.end] for segment in segments], separators=(",", ":"))


def decode(stored: str | None) -> list[Segment] | None:
    """What `encode` stored; None for a run recorded without segments (or unreadable)."""
    if not stored:
        return None
    try:
        raw = json.loads(stored)
        return [Segment(kind, int(end)) for kind, end in raw if kind in KINDS]
    except (ValueError, TypeError):
        return None


def cut(
    texts: dict[Stream, str], images: int, segments: list[Segment] | None
) -> list[Text | Image]:
    """`texts` and `images` plots in the order `segments` say they came,
    consecutive text of one stream joined; what follows the segments (all of
    it without them): stdout, stderr, typed input, then plots. Ends past a
    text or the plots are taken as their end; an end before one already
    reached adds nothing."""
    # Pieces of text as (stream, start, end), sliced once at the end.
    spans: list[tuple[Stream, int, int] | Image] = []
    done = dict.fromkeys(KINDS, 0)

    def text_until(stream: Stream, end: int) -> None:
        start, end = done[stream], min(end, len(texts[stream]))
        if end <= start:
            return
        done[stream] = end
        last = spans[-1] if spans else None
        if isinstance(last, tuple) and last[0] == stream:
            spans[-1] = (stream, last[1], end)
        else:
            spans.append((stream, start, end))

    def images_until(end: int) -> None:
        end = min(end, images)
        spans.extend(Image(index) for index in range(done["image"], end))
        done["image"] = max(done["image"], end)

    for segment in segments or ():
        if segment.kind == "image":
            images_until(segment.end)
        else:
            text_until(segment.kind, segment.end)
    for stream in STREAMS:
        text_until(stream, len(texts[stream]))
    images_until(images)
    return [
        span if isinstance(span, Image) else Text(span[0], texts[span[0]][span[1] : span[2]])
        for span in spans
    ]


def replay(
    texts: dict[Stream, str], images: int, segments: list[Segment] | None
) -> Iterator[Text | Image]:
    """What `cut` gives, text in pieces of at most `EVENT_BYTES` characters."""
    for piece in cut(texts, images, segments):
        if isinstance(piece, Image):
            yield piece
            continue
        for at in range(0, len(piece.text), EVENT_BYTES):
            yield Text(piece.stream, piece.text[at : at + EVENT_BYTES])
