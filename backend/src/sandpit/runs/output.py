"""A run's output as it comes: stdout and stderr under one cap, in the order they came.

`RunOutput` is written by the executor's readers (on the event loop, never
blocking) and read by any number of followers, each with its own `Cursor`:
a follower is a position in the output, never a copy of it, so a slow or
stalled follower costs nothing and cannot hold the run back.

What is kept of each stream (`parts`) is exactly what the run's record
gets; the *log* says in which order the kept pieces came (a segment is a
stream and where its bytes end), so a follower replays stdout and stderr
interleaved as they were printed. The log also holds the input typed while
the run ran (`echo`, shown in the console but never part of the record)
and the plots, where they appeared.
"""

from __future__ import annotations

import asyncio
import codecs
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from sandpit.runs.plots import PlotStore

# Past this many times the cap, a flooding run is ended.
FLOOD_FACTOR = 16
MAX_IMAGES = 20
# Typed input shown in the console; past this it is still sent, not shown.
ECHO_BYTES = 256 * 1024
# A program that switches between stdout and stderr on every byte would make
# a segment per byte: past this many, the rest is delivered when the run ends.
# Enough for any program a person reads the output of. The one cap on
# segments: the record keeps as many as the log (see `transcript`), so a
# finished run replays in the order its followers saw; and each is a piece in
# every answer that carries the run, so it bounds their size too.
MAX_SEGMENTS = 10_000
# At most this many bytes of one stream per event a follower gets.
EVENT_BYTES = 32 * 1024

Stream = Literal["stdout", "stderr", "stdin"]
# What a segment of the output is: text of one stream, or plots.
Kind = Literal["stdout", "stderr", "stdin", "image"]
STREAMS: tuple[Stream, ...] = ("stdout", "stderr", "stdin")
KINDS: tuple[Kind, ...] = (*STREAMS, "image")
_IMAGE = KINDS.index("image")


@dataclass(frozen=True)
class Text:
    """Output text of one stream (`stdin`: input echoed as it was sent)."""

    stream: Stream
    text: str


@dataclass(frozen=True)
class Image:
    """The run showed its `index`-th plot."""

    index: int


class RunOutput:
    """stdout and stderr sharing one byte budget, the order they came in, echo and plots.

    Legal states: open → ended (`end()`: nothing is added after it).
    """

    def __init__(self, limit: int, plots: PlotStore | None = None) -> None:
        self.limit = limit
        self.kept = 0
        self.seen = 0
        self.parts: dict[Stream, bytearray] = {
            "stdout": bytearray(),
            "stderr": bytearray(),
            "stdin": bytearray(),
        }
        # On disk as they come when the store has a directory (`sandpit.runs.plots`).
        self.images = plots if plots is not None else PlotStore()
        self.ended = False
        # The log, append-only. Segment i: kind KINDS[log_kinds[i]], bytes
        # up to log_ends[i] of that stream (for images: the count so far).
        # Compact: 9 bytes a segment.
        self.log_kinds = array("B")
        self.log_ends = array("Q")
        self._changed = asyncio.Event()
        # Text that came while a plot's file was being written (`hold`).
        self._held: list[tuple[Stream, bytes]] | None = None

    @property
    def truncated(self) -> bool:
        return self.seen > self.kept

    @property
    def flooding(self) -> bool:
        return self.seen > self.limit * FLOOD_FACTOR

    @property
    def changed(self) -> asyncio.Event:
        """Set at the next change: take it *before* reading, then wait on it."""
        return self._changed

    def add(self, stream: Literal["stdout", "stderr"], data: bytes) -> None:
        """Keep what fits under the cap of `data`, printed by the run on `stream`."""
        self.seen += len(data)
        room = self.limit - self.kept
        if room > 0 and data:
            piece = data[:room]
            self.kept += len(piece)
            self._append(stream, piece)

    def echo(self, data: bytes) -> None:
        """Show `data` as input typed into the run (up to `ECHO_BYTES` in all)."""
        room = ECHO_BYTES - len(self.parts["stdin"])
        if room > 0 and data:
            self._append("stdin", data[:room])

    def add_image(self, png: bytes) -> bool:
        """Keep a plot; False once the run has shown `MAX_IMAGES` (it is dropped)."""
        if len(self.images) >= MAX_IMAGES:
            return False
        self.images.add(png)
        self._segment(_IMAGE, len(self.images))
        self.notify()
        return True

    def hold(self) -> None:
        """Keep the text added from now behind the plot being stored, until `release`.

        A plot's file is written off the event loop, and only a whole file
        is shown; meanwhile the other readers go on. What the program printed
        after the plot must still come after it in the log (the order a
        person saw, and the record's)."""
        if self._held is None:
            self._held = []

    def release(self) -> None:
        """Add the text held since `hold`, in the order it came. Idempotent."""
        held, self._held = self._held, None
        for stream, data in held or ():
            # The echo's cap, now with what was held counted.
            room = ECHO_BYTES - len(self.parts["stdin"]) if stream == "stdin" else len(data)
            if room > 0:
                self._append(stream, data[:room])

    def end(self) -> None:
        self.release()
        self.ended = True
        self.notify()

    def notify(self) -> None:
        """Wake every follower waiting on `changed`."""
        self._changed.set()
        self._changed = asyncio.Event()

    def record(self, stream: Literal["stdout", "stderr"]) -> bytes:
        """What the run's record keeps of `stream`."""
        return bytes(self.parts[stream])

    @property
    def typed(self) -> bytes:
        """The input typed into the run that was shown (up to `ECHO_BYTES`)."""
        return bytes(self.parts["stdin"])

    def _append(self, stream: Stream, data: bytes) -> None:
        if self._held is not None:
            self._held.append((stream, bytes(data)))
            return
        part = self.parts[stream]
        part += data
        self._segment(KINDS.index(stream), len(part))
        self.notify()

    def _segment(self, kind: int, end: int) -> None:
        if self.log_kinds and self.log_kinds[-1] == kind:
            self.log_ends[-1] = end
        elif len(self.log_kinds) < MAX_SEGMENTS:
            self.log_kinds.append(kind)
            self.log_ends.append(end)
        # Else: the bytes are kept (the record is whole); a follower gets
        # them from `Cursor.rest()` when the run has ended.


class Cursor:
    """One follower's position in a `RunOutput`: what it has been given so far."""

    def __init__(self, output: RunOutput) -> None:
        self.output = output
        self._segment = 0
        self._offsets = {kind: 0 for kind in KINDS}
        self._decoders: dict[Stream, codecs.IncrementalDecoder] = {
            stream: codecs.getincrementaldecoder("utf-8")("replace") for stream in STREAMS
        }

    def take(self) -> Iterator[Text | Image]:
        """What came since the last call, in order, in pieces of at most `EVENT_BYTES`.

        The output only ever grows, so awaiting between items is safe: what
        came meanwhile is in this pass or the next.
        """
        kinds, ends = self.output.log_kinds, self.output.log_ends
        while self._segment < len(kinds):
            kind = KINDS[kinds[self._segment]]
            yield from self._until(kind, ends[self._segment])
            if self._segment == len(kinds) - 1:
                break  # the last segment may still grow
            self._segment += 1

    def rest(self, final: bool = True) -> Iterator[Text | Image]:
        """After the end: whatever the log did not cover, stream by stream, and (`final`)
        the decoders' last characters, a character cut at the end as U+FFFD."""
        for kind in KINDS:
            end = len(self.output.images) if kind == "image" else len(self.output.parts[kind])
            yield from self._until(kind, end)
        if not final:
            return
        for stream, decoder in self._decoders.items():
            text = decoder.decode(b"", final=True)
            if text:
                yield Text(stream, text)

    def _until(self, kind: Kind, end: int) -> Iterator[Text | Image]:
        start = self._offsets[kind]
        if kind == "image":
            for index in range(start, end):
                self._offsets[kind] = index + 1
                yield Image(index)
            return
        part = self.output.parts[kind]
        decoder = self._decoders[kind]
        while start < end:
            stop = min(end, start + EVENT_BYTES)
            text = decoder.decode(part[start:stop])
            start = stop
            self._offsets[kind] = start
            if text:
                yield Text(kind, text)
