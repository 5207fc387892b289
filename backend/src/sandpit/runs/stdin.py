"""A run's standard input: bytes queued for the program, written as its pipe takes them.

The input given when the run starts comes first. A run started with
`interactive` keeps its input open after that, so more can be sent while
it runs (`POST /api/runs/{id}/stdin`); otherwise the program reads EOF
right after it, as it always did. Writes never block: they queue here, and
`pump` hands them to the pipe whenever the program reads. What may wait is
capped (`MAX_PENDING_BYTES`), so a program that never reads cannot make
the server hold more.

Legal states: open → closing (EOF asked for: the queue is written, then the
pipe closed) → closed (the pipe is closed; the program ended, stopped
reading, or everything was written). Only an open input takes more.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable

from sandpit.fds import OwnedFd

MAX_PENDING_BYTES = 1024 * 1024


class RunInput:
    """`on_change` is called when `open` turns false (to tell the run's followers)."""

    def __init__(
        self, initial: bytes, *, keep_open: bool, on_change: Callable[[], None] = lambda: None
    ) -> None:
        self._queue: deque[bytes] = deque([initial] if initial else [])
        self.pending = len(initial)
        self.closing = not keep_open
        self.closed = False
        self._on_change = on_change
        self._wake = asyncio.Event()

    @property
    def open(self) -> bool:
        """Whether `write` is allowed: the run is interactive and no EOF was asked for."""
        return not self.closing and not self.closed

    @property
    def room(self) -> int:
        """How many more bytes may be queued now."""
        return max(0, MAX_PENDING_BYTES - self.pending)

    def write(self, data: bytes) -> None:
        """Queue `data` for the program. The caller checks `open` and `room` first."""
        if not self.open:
            raise RuntimeError("the run's input is closed")
        if data:
            self._queue.append(data)
            self.pending += len(data)
            self._wake.set()

    def close(self) -> None:
        """Ask for EOF: the program reads it once everything queued is written."""
        if not self.closing:
            self.closing = True
            self._wake.set()
            self._on_change()

    async def pump(self, end: OwnedFd | None) -> None:
        """Write the queue to `end` (non-blocking) until EOF is asked for; then close it."""
        if end is None:
            self.closed = True
            self._on_change()
            return
        loop = asyncio.get_running_loop()
        fd = end.fd
        os.set_blocking(fd, False)
        try:
            while True:
                if not self._queue:
                    if self.closing:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                data = self._queue[0]
                try:
                    written = os.write(fd, data)
                except BlockingIOError:
                    await _writable(loop, fd)
                    continue
                except OSError:  # the program closed its end, or ended
                    return
                self.pending -= written
                if written == len(data):
                    self._queue.popleft()
                else:
                    self._queue[0] = data[written:]
        finally:
            was_open = self.open
            self.closed = True
            self._queue.clear()
            self.pending = 0
            end.close()
            if was_open:
                self._on_change()


async def _writable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = asyncio.Event()
    loop.add_writer(fd, ready.set)
    try:
        await ready.wait()
    finally:
        loop.remove_writer(fd)
