"""A run's plots: PNGs written to disk as they come, never piling up in memory.

A run may show `MAX_IMAGES` plots of up to 8 MiB each, and several runs of
many users run at once: held in the server they would grow its memory by
hundreds of MiB. With a directory, each plot is written to
`<directory>/<index>.png` the moment it arrives and only its path is kept;
the files are the run's record afterwards (see `RunService`). Without one
(pure uses, unit tests) the bytes are kept in memory.

The executor writes each file in a worker thread first (`prepare`), then
counts it (`add`): a plot of several MiB written on the event loop held
every other user's request for the time of the write. The count moves only
once the file is whole, so a reader never asks for a file still being written.

The directory is the server's, under the data directory and named by ids
the server made, outside every sandbox: no path a user controls is involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path


class PlotStore:
    """The plots shown so far, in order. Legal operations: `prepare` (then the
    `add` of the same plot), `add`, `get`, `len`, `bytes_stored`."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: list[bytes] = []
        self._count = 0
        # The index whose file `prepare` wrote and `add` has not counted yet.
        self._prepared: int | None = None
        self.bytes_stored = 0

    def __len__(self) -> int:
        return self._count

    async def prepare(self, png: bytes) -> None:
        """Write `png` as the next plot's file in a worker thread; the `add` of
        the same plot, next, counts it without writing. Nothing for a store in memory."""
        if self.directory is None:
            return
        write = asyncio.ensure_future(
            asyncio.to_thread(self._write, self.directory, self._count, png)
        )
        try:
            await asyncio.shield(write)
        except asyncio.CancelledError:
            # The run is ending: the thread's write ends before the run does
            # (nothing writes a plot after a run is recorded), and the uncounted
            # file goes, with the folder if it was the first: a run has a
            # folder only if it showed a plot (its pruning relies on that).
            with contextlib.suppress(OSError):
                await write
                (self.directory / f"{self._count}.png").unlink()
                if not self._count:
                    self.directory.rmdir()
            raise
        self._prepared = self._count

    def add(self, png: bytes) -> None:
        """Keep `png` as the next plot (on disk when the store has a directory)."""
        if self.directory is None:
            self._memory.append(png)
        elif self._prepared != self._count:
            self._write(self.directory, self._count, png)
        self._prepared = None
        self._count += 1
        self.bytes_stored += len(png)

    @staticmethod
    def _write(directory: Path, index: int, png: bytes) -> None:
        # runs/<workspace>/<run>/, each level the server's alone (mkdir's
        # `parents` would make the upper ones with the umask's mode).
        for level in (directory.parent.parent, directory.parent, directory):
            level.mkdir(mode=0o700, exist_ok=True)
        path = directory / f"{index}.png"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with open(fd, "wb") as handle:
            handle.write(png)

    def get(self, index: int) -> Path | bytes:
        """The `index`-th plot: its file, or its bytes for a store in memory."""
        if not 0 <= index < self._count:
            raise IndexError(index)
        if self.directory is None:
            return self._memory[index]
        return self.directory / f"{index}.png"

    def in_memory(self) -> list[bytes]:
        """The plots kept in memory (none for a store with a directory)."""
        return list(self._memory)
