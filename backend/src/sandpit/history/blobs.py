"""Content-addressed blobs: each distinct content stored once, named by its SHA-256.

A blob is the file ``DATA_DIR/blobs/<ab>/<sha256>`` (mode 0600), written to a
temporary name, fsynced and renamed, so a reader sees the whole content or no
file. Its row in `history_blobs` (size, when) is what versions and snapshot
manifests count on; `collect` removes rows and files that nothing refers to.

A content is written before any row refers to it, and collection must not
remove a blob between that write and the reference being committed: writers
hold `BlobGate.writing()`, collection holds `BlobGate.collecting()`, which
waits for writers to finish and keeps new ones out meanwhile. The gate is
per process, which is enough while one server process owns a data directory.

`sandpit backup` (another process) copies the database and then the blob
files; a blob the copied rows name must still be on disk when the files are
copied. It holds `pinned` (a shared `flock` on the store's root) meanwhile,
and `remove_unless_pinned` deletes nothing while any pin is held: the
caller keeps the names and tries again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import fcntl
import functools
import hashlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import cast

_HEX = frozenset("0123456789abcdef")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobGate:
    """Many writers at once, or one collector alone (a small readers-writer lock)."""

    def __init__(self) -> None:
        self._writers = 0
        self._collecting = False
        self._changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._collecting)
            self._writers += 1
        try:
            yield
        finally:
            async with self._changed:
                self._writers -= 1
                self._changed.notify_all()

    @contextlib.asynccontextmanager
    async def collecting(self) -> AsyncIterator[None]:
        async with self._changed:
            await self._changed.wait_for(lambda: not self._collecting and self._writers == 0)
            self._collecting = True
        try:
            yield
        finally:
            async with self._changed:
                self._collecting = False
                self._changed.notify_all()


class BlobStore:
    """The blob files under `root` (blocking calls: run them in a worker thread)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.gate = BlobGate()

    def path(self, sha256: str) -> Path:
        """The file of blob `sha256`; `ValueError` for anything but 64 lowercase hex digits."""
        if len(sha256) != 64 or not set(sha256) <= _HEX:
            raise ValueError(f"not a SHA-256 name: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` (once: an existing blob is kept) and return its SHA-256."""
        sha = sha256_of(data)
        target = self.path(sha)
        if target.exists():
            return sha
        _private_dirs(self.root, target.parent)
        temp = target.parent / f".tmp-{secrets.token_hex(8)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with open(fd, "wb", closefd=True) as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(temp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        _fsync_dir(target.parent)
        return sha

    def put_many(self, contents: list[bytes]) -> list[str]:
        """Store each of `contents` (once) and return their SHA-256s, in order.

        Like `put`, but flushed together: the new blobs are written to
        temporary names, the whole filesystem is flushed once (syncfs, where
        the C library has it; otherwise each file is fsynced), then each is
        renamed into place and each folder touched is fsynced once. Thousands
        of blobs (a snapshot) then cost a few flushes, not two per blob.
        """
        names = [sha256_of(data) for data in contents]
        pending: dict[str, tuple[Path, Path]] = {}
        try:
            for sha, data in zip(names, contents, strict=True):
                target = self.path(sha)
                if sha in pending or target.exists():
                    continue
                _private_dirs(self.root, target.parent)
                temp = target.parent / f".tmp-{secrets.token_hex(8)}"
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                pending[sha] = (temp, target)
                with open(fd, "wb", closefd=True) as handle:
                    handle.write(data)
            if pending:
                _flush([temp for temp, _ in pending.values()], self.root)
            for temp, target in pending.values():
                os.rename(temp, target)
        except BaseException:
            for temp, _ in pending.values():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            raise
        for folder in {target.parent for _, target in pending.values()}:
            _fsync_dir(folder)
        return names

    def get(self, sha256: str) -> bytes:
        """The content of blob `sha256`; `FileNotFoundError` if it is not stored."""
        return self.path(sha256).read_bytes()

    def open(self, sha256: str) -> int:
        """A read-only file descriptor on blob `sha256` (the caller closes it);
        `FileNotFoundError` if it is not stored. Once open, the content stays
        readable even if the blob is collected meanwhile."""
        return os.open(self.path(sha256), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)

    def remove(self, names: Iterable[str]) -> int:
        """Delete the blobs `names` (missing ones are fine); return how many files went."""
        removed = 0
        for sha in names:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(sha))
                removed += 1
        return removed

    def remove_unless_pinned(self, names: Iterable[str]) -> int | None:
        """`remove` the blobs `names` unless a backup has the store `pinned`: then None,
        and nothing is deleted."""
        if not self.root.is_dir():
            return 0
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            return self.remove(names)  # closing the descriptor releases the lock
        finally:
            os.close(fd)

    def stored(self) -> list[str]:
        """Every blob name on disk (for tests and consistency checks)."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.glob("??/*") if not p.name.startswith("."))


@contextlib.contextmanager
def pinned(root: Path) -> Iterator[None]:
    """Keep every blob file under `root` on disk while the body runs (any process).

    A shared lock, so it never waits for another pin; it waits only for a
    `remove_unless_pinned` that is deleting at that moment.
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _flush(paths: list[Path], root: Path) -> None:
    """Make the content of `paths` durable: one syncfs(2) of their filesystem if the C
    library offers it, else an fsync per file."""
    syncfs = _syncfs()
    if syncfs is not None:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for path in paths:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    function = getattr(ctypes.CDLL(name, use_errno=True), "syncfs", None)
    if function is None:
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return cast(Callable[[int], int], function)


def _private_dirs(root: Path, directory: Path) -> None:
    """Make `root` and its child `directory` the server's alone (0700): `mkdir`'s
    `parents` would make `root` with the umask's mode."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=True)
