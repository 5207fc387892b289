"""Reading a sandboxed process's pipe on the event loop, keeping at most a bound."""

from __future__ import annotations

import asyncio
import os


class BoundedReader:
    """Reads host descriptor `fd` (a pipe) until end of file, keeping the first `cap` bytes.

    What passes the cap is read and dropped, so the writer never blocks on
    it, except the last `tail` bytes (pytest's summary comes last, after
    whatever flood a submission printed). Owns `fd`: `close()` closes it.
    """

    def __init__(self, fd: int, cap: int, tail: int = 0) -> None:
        self.fd: int | None = fd
        self.cap = cap
        self.tail = tail
        self.total = 0
        self._data = bytearray()
        self._tail = bytearray()
        self._eof = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        assert self.fd is not None
        for _ in range(16):
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._stop()
                return
            self.total += len(chunk)
            room = self.cap - len(self._data)
            if room > 0:
                self._data += chunk[:room]
            if self.tail and len(chunk) > room:
                self._tail += chunk[max(room, 0) :]
                del self._tail[: -self.tail]

    async def ended(self) -> None:
        """Return at end of file."""
        await self._eof.wait()

    def data(self) -> bytes:
        """What was kept: the head, then (if more was dropped) a marker and the tail."""
        if not self._tail:
            return bytes(self._data)
        dropped = self.total - len(self._data) - len(self._tail)
        marker = f"\n… ({dropped} bytes left out) …\n".encode() if dropped else b""
        return bytes(self._data) + marker + bytes(self._tail)

    def _stop(self) -> None:
        if not self._eof.is_set() and self.fd is not None:
            self._loop.remove_reader(self.fd)
            self._eof.set()

    def close(self) -> None:
        self._stop()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
