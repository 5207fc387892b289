"""Reading a pipe's descriptor on the event loop, chunk by chunk, without blocking it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator

READ_CHUNK = 64 * 1024


async def read_chunks(fd: int, size: int = READ_CHUNK) -> AsyncGenerator[bytes, None]:
    """Yield what `fd` gives, up to `size` bytes a chunk, until end of file.

    Makes `fd` non-blocking and watches it with the loop's `add_reader` while
    iterating; the watch is removed when the iteration ends, so run it under
    `contextlib.aclosing` when the loop over it may stop early (an exception,
    a cancellation while the consumer awaits): an abandoned generator is
    only closed when it is collected. The consumer's own work between two
    chunks is the backpressure: nothing is read while it runs. Raises the
    `OSError` of a failed read. The caller owns `fd` and closes it.
    """
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    try:
        while True:
            await readable.wait()
            readable.clear()
            try:
                data = os.read(fd, size)
            except BlockingIOError:
                continue
            if not data:
                return
            yield data
    finally:
        loop.remove_reader(fd)
