"""Moving framed LSP messages through a process's pipes without blocking the loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable

from sandpit.fdio import read_chunks
from sandpit.lsp.framing import FrameReader, encode


async def read_bodies(
    fd: int, reader: FrameReader, on_body: Callable[[bytes], Awaitable[None]]
) -> None:
    """Hand each message body read from `fd` to `on_body` until EOF.

    Awaiting `on_body` before reading on is the backpressure: a slow client
    stops the read, the pipe fills and the server waits. Raises `FrameError`
    on a malformed stream. The caller owns `fd`.
    """
    async with contextlib.aclosing(read_chunks(fd)) as chunks:
        async for data in chunks:
            for body in reader.feed(data):
                await on_body(body)


class FrameWriter:
    """Writes framed messages to `fd`, one at a time, waiting while the pipe is full."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = asyncio.Lock()
        os.set_blocking(fd, False)

    async def write(self, body: bytes) -> None:
        """Raises `OSError` when the process has closed its end (it ended)."""
        async with self._lock:
            view = memoryview(encode(body))
            loop = asyncio.get_running_loop()
            while view:
                try:
                    view = view[os.write(self._fd, view) :]
                except BlockingIOError:
                    writable = asyncio.Event()
                    loop.add_writer(self._fd, writable.set)
                    try:
                        await writable.wait()
                    finally:
                        loop.remove_writer(self._fd)
