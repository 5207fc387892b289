"""A run's plots: PNGs written to disk as they come, never piling up in memory.

A run may show `MAX_IMAGES` plots of up to 8 MiB each, and several runs of
many users run at once: held in the server they would grow its memory by
hundreds of MiB. With a directory, each plot is written to
`<directory>/<index>.png` the moment it arrives and only its path is kept;
the files are the run's record afterwards (see `RunService`). Without one
(pure uses, unit tests) the bytes are kept in memory.

The directory is the server's, under the data directory and named by ids
the server made, outside every sandbox: no path a user controls is involved.
"""

from __future__ import annotations

import os
from pathlib import Path


class PlotStore:
    """The plots shown so far, in order. Legal operations: `add`, `get`, `len`, `bytes_stored`."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: list[bytes] = []
        self._count = 0
        self.bytes_stored = 0

    def __len__(self) -> int:
        return self._count

    def add(self, png: bytes) -> None:
        """Keep `png` as the next plot (on disk when the store has a directory)."""
        if self.directory is None:
            self._memory.append(png)
        else:
            # runs/<workspace>/<run>/, each level the server's alone (mkdir's
            # `parents` would make the upper ones with the umask's mode).
            runs_root = self.directory.parent.parent
            for level in (runs_root, self.directory.parent, self.directory):
                level.mkdir(mode=0o700, exist_ok=True)
            path = self.directory / f"{self._count}.png"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with open(fd, "wb") as handle:
                handle.write(png)
        self._count += 1
        self.bytes_stored += len(png)

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
