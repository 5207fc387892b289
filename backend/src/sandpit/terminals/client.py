"""One client attached to a terminal: what is queued for it, and how far it has acknowledged.

Flow-control bookkeeping, per client and per connection: `sent` counts the
output bytes queued for it (binary frames), `acked` the bytes it says it has
rendered. Bytes of a replay (on attach or resync) are not held against it
for pausing the terminal: only output queued after the replay is
(`unacked_live`), so a new client does not stall the others while it
catches up, yet cannot fall behind without limit either.

States: *live* (gets output as it comes) → *behind* (stalled for too long:
its unsent output was dropped and it gets nothing new) → live again, after a
resync from the ring, once it has acknowledged what it was sent. Closing is
final.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# Control messages beyond this many queued bytes are dropped (errors a
# client provokes but never reads must not pile up); exit and close are not.
CONTROL_QUEUE_CAP = 4 * 1024 * 1024
REPLAY_FRAME = 256 * 1024

_ids = itertools.count(1)


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class Client:
    def __init__(self, user_id: str) -> None:
        self.id = next(_ids)
        self.user_id = user_id
        self.sent = 0
        self.acked = 0
        self.replay_end = 0
        self.live = True
        # When it last held the terminal paused without acknowledging anything.
        self.stalled_since: float | None = None
        self.closed = False
        self._frames: deque[bytes | str | _Close] = deque()
        self._queued = 0
        self._wake = asyncio.Event()

    @property
    def unacked(self) -> int:
        return self.sent - self.acked

    @property
    def unacked_live(self) -> int:
        """Unacknowledged bytes queued after the last replay (what pauses the terminal)."""
        return self.sent - max(self.acked, self.replay_end)

    @property
    def queued_bytes(self) -> int:
        return self._queued

    def push_output(self, data: bytes) -> None:
        if self.closed or not data:
            return
        self._frames.append(data)
        self._queued += len(data)
        self.sent += len(data)
        self._wake.set()

    def push_replay(self, data: bytes) -> None:
        """Queue a replay (the ring's content); the client is live again after it.

        Sent in frames of at most `REPLAY_FRAME` bytes: the ring may be larger
        than what common WebSocket clients accept in one message (1 MiB).
        """
        for start in range(0, len(data), REPLAY_FRAME):
            self.push_output(data[start : start + REPLAY_FRAME])
        self.replay_end = self.sent
        self.live = True
        self.stalled_since = None

    def push_control(self, message: dict[str, object], *, essential: bool = False) -> None:
        if self.closed or (not essential and self._queued > CONTROL_QUEUE_CAP):
            return
        text = json.dumps(message, separators=(",", ":"))
        self._frames.append(text)
        self._queued += len(text)
        self._wake.set()

    def push_close(self, code: int, reason: str) -> None:
        """Close after what is queued has been sent; nothing is queued after this."""
        if self.closed:
            return
        self._frames.append(_Close(code, reason))
        self.closed = True
        self._wake.set()

    def ack(self, total: int) -> bool:
        """Record that the client rendered `total` bytes; True if that is progress."""
        total = min(total, self.sent)  # nobody acknowledges what was never sent
        if total <= self.acked:
            return False
        self.acked = total
        self.stalled_since = None
        return True

    def fall_behind(self) -> None:
        """Stop live output: drop what was not handed to the socket yet (a resync follows)."""
        self.live = False
        self.stalled_since = None
        kept: deque[bytes | str | _Close] = deque()
        for frame in self._frames:
            if isinstance(frame, bytes):
                self.sent -= len(frame)
                self._queued -= len(frame)
            else:
                kept.append(frame)
        self._frames = kept
        self.replay_end = min(self.replay_end, self.sent)
        self.acked = min(self.acked, self.sent)

    async def pump(
        self,
        send_bytes: Callable[[bytes], Awaitable[None]],
        send_text: Callable[[str], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
    ) -> None:
        """Send queued frames in order until closed. Returns after sending the close."""
        while True:
            while not self._frames:
                self._wake.clear()
                await self._wake.wait()
            frame = self._frames.popleft()
            if isinstance(frame, _Close):
                await close(frame.code, frame.reason)
                return
            self._queued -= len(frame)
            if isinstance(frame, bytes):
                await send_bytes(frame)
            else:
                await send_text(frame)
