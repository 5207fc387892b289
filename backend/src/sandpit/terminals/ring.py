"""The replay ring: the last bytes of a terminal's output, for clients that (re)attach."""

from __future__ import annotations

from collections import deque

from sandpit.terminals.modes import ModeTracker

# A full reset first, so a client whose screen already shows something (a
# reconnect on the same xterm.js instance, a resync) starts from a clean slate.
RESET = b"\x1bc"


class Ring:
    """At most `capacity` bytes of output, oldest dropped first.

    Chunks are kept as they came (no copying on append); only the one chunk
    cut at the front is sliced. The bytes that fall out are fed to
    `modes_at_start`, so `replay()` can put a fresh terminal into the modes
    that were in effect where the kept window begins, before replaying it:
    the replay then ends in exactly the state the program set.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a ring holds at least one byte")
        self.capacity = capacity
        self.modes_at_start = ModeTracker()
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._snapshot: bytes | None = None

    def __len__(self) -> int:
        return self._size

    def append(self, data: bytes) -> None:
        if not data:
            return
        self._snapshot = None
        self._chunks.append(data)
        self._size += len(data)
        while self._size > self.capacity:
            first = self._chunks.popleft()
            excess = self._size - self.capacity
            if len(first) <= excess:
                self.modes_at_start.feed(first)
                self._size -= len(first)
                continue
            # Cut inside this chunk, but not inside a UTF-8 character.
            cut = excess
            while cut < len(first) and cut - excess < 3 and 0x80 <= first[cut] < 0xC0:
                cut += 1
            self.modes_at_start.feed(first[:cut])
            self._chunks.appendleft(first[cut:])
            self._size -= cut

    def contents(self) -> bytes:
        """The kept output, oldest first (cached until the next append)."""
        if self._snapshot is None:
            self._snapshot = b"".join(self._chunks)
        return self._snapshot

    def replay(self) -> bytes:
        """What a newly attached client is sent: reset, the modes at the start, the output."""
        return RESET + self.modes_at_start.restore() + self.contents()
