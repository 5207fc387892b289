"""Non-blocking I/O on a PTY master: coalesced reads, queued writes, pausing, a trickle mode.

`PtyStream` never blocks the event loop: the master is non-blocking, reads
happen in `add_reader` callbacks with a bounded budget per wake-up, and
writes go out as the PTY takes them (`add_writer`). Output is handed on in
chunks (`on_output`): coalesced for `COALESCE_S`, except that the first
output after input (an echo) and the first after a quiet spell go at once,
and a chunk never waits once it has `FLUSH_BYTES`. The owner pauses
reading for flow control (`paused`) and says whether anyone is watching
(`attended`); unattended, output is read at `UNATTENDED_BYTES_PER_S` at
most, so a flood nobody watches neither stops the program dead nor keeps a
server core busy.
"""

from __future__ import annotations

import asyncio
import os
import termios
from collections import deque
from collections.abc import Callable

COALESCE_S = 0.005
FLUSH_BYTES = 64 * 1024
READ_SIZE = 64 * 1024
READ_BUDGET = 256 * 1024
INPUT_HIGH = 2 * 1024 * 1024
UNATTENDED_BYTES_PER_S = 1024 * 1024
UNATTENDED_WINDOW_S = 0.25


class PtyStream:
    def __init__(
        self, fd: int, on_output: Callable[[bytes], None], attended: Callable[[], bool]
    ) -> None:
        self._fd: int | None = fd
        self._on_output = on_output
        self._attended = attended
        self._loop = asyncio.get_running_loop()
        self.eof = asyncio.Event()
        self._paused = False
        self._draining = False
        self._reading = False
        self._pending = bytearray()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._input_since_flush = False
        self._window_start = 0.0
        self._window_bytes = 0
        self._throttle_handle: asyncio.TimerHandle | None = None
        self._input: deque[memoryview] = deque()
        self._input_bytes = 0
        self._writing = False
        self._input_room = asyncio.Event()
        self._input_room.set()
        os.set_blocking(fd, False)
        self._update_reader()

    @property
    def open(self) -> bool:
        return self._fd is not None

    # --- reading ---------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """Stop (or resume) reading: flow control. Ignored while draining."""
        self._paused = paused
        self._update_reader()

    def drain(self) -> None:
        """Read whatever is left, ignoring pauses and the trickle (the shell has ended)."""
        self._draining = True
        self._update_reader()

    def _should_read(self) -> bool:
        if self._fd is None or self.eof.is_set():
            return False
        if self._draining:
            return True
        return not self._paused and self._throttle_handle is None

    def _update_reader(self) -> None:
        want = self._should_read()
        if want and not self._reading:
            assert self._fd is not None
            self._loop.add_reader(self._fd, self._on_readable)
            self._reading = True
        elif not want and self._reading:
            if self._fd is not None:
                self._loop.remove_reader(self._fd)
            self._reading = False

    def _on_readable(self) -> None:
        assert self._fd is not None
        unattended = not self._draining and not self._attended()
        budget = self._allowance() if unattended else READ_BUDGET
        got = 0
        while got < budget:
            try:
                data = os.read(self._fd, READ_SIZE)
            except BlockingIOError:
                break
            except OSError:  # EIO: every process holding the PTY's other end is gone
                data = b""
            if not data:
                self.eof.set()
                break
            self._pending += data
            got += len(data)
        if unattended:
            self._window_bytes += got
            if self._window_bytes >= UNATTENDED_BYTES_PER_S * UNATTENDED_WINDOW_S:
                resume_at = self._window_start + UNATTENDED_WINDOW_S
                self._throttle_handle = self._loop.call_at(resume_at, self._end_throttle)
        if self._pending:
            self._schedule_flush()
        self._update_reader()

    def _allowance(self) -> int:
        now = self._loop.time()
        if now - self._window_start >= UNATTENDED_WINDOW_S:
            self._window_start, self._window_bytes = now, 0
        return max(1, int(UNATTENDED_BYTES_PER_S * UNATTENDED_WINDOW_S) - self._window_bytes)

    def _end_throttle(self) -> None:
        self._throttle_handle = None
        self._update_reader()

    def _schedule_flush(self) -> None:
        now = self._loop.time()
        if (
            len(self._pending) >= FLUSH_BYTES
            or self._input_since_flush
            or now - self._last_flush >= COALESCE_S
        ):
            self.flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_at(self._last_flush + COALESCE_S, self.flush)

    def flush(self) -> None:
        """Hand on what was read and not yet handed on."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if not self._pending:
            return
        data = bytes(self._pending)
        self._pending.clear()
        self._last_flush = self._loop.time()
        self._input_since_flush = False
        self._on_output(data)

    # --- writing ---------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Queue input; returns once at most `INPUT_HIGH` bytes wait (bounded memory)."""
        if self._fd is None:
            return
        self._input.append(memoryview(data))
        self._input_bytes += len(data)
        self._input_since_flush = True
        self._write_input()
        while self._input_bytes > INPUT_HIGH and self._fd is not None:
            self._input_room.clear()
            await self._input_room.wait()

    def _write_input(self) -> None:
        while self._input and self._fd is not None:
            chunk = self._input[0]
            try:
                written = os.write(self._fd, chunk)
            except BlockingIOError:
                if not self._writing:
                    self._loop.add_writer(self._fd, self._write_input)
                    self._writing = True
                return
            except OSError:  # the shell is gone: nobody will read it
                self._input.clear()
                self._input_bytes = 0
                break
            self._input_bytes -= written
            if written == len(chunk):
                self._input.popleft()
            else:
                self._input[0] = chunk[written:]
        if self._writing and self._fd is not None:
            self._loop.remove_writer(self._fd)
        self._writing = False
        self._input_room.set()

    def secret_input(self) -> bool:
        """True while a program reads a password: a canonical line with echo off (getpass).

        Shells and REPLs read in raw mode with their own echo, so this does not hide them.
        """
        if self._fd is None:
            return False
        try:
            local_flags = termios.tcgetattr(self._fd)[3]
        except (termios.error, OSError):
            return False
        return bool(local_flags & termios.ICANON) and not local_flags & termios.ECHO

    def close(self) -> None:
        """Stop all I/O (the fd itself belongs to the process and is closed with it)."""
        for handle in (self._flush_handle, self._throttle_handle):
            if handle is not None:
                handle.cancel()
        self._flush_handle = self._throttle_handle = None
        if self._fd is not None:
            if self._reading:
                self._loop.remove_reader(self._fd)
            if self._writing:
                self._loop.remove_writer(self._fd)
        self._reading = self._writing = False
        self._fd = None
        self._input.clear()
        self._input_bytes = 0
        self._input_room.set()
