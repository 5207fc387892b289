"""A snapshot as a zip, streamed from its blobs.

The zip has the layout of a workspace export (`sandpit.workspaces.archive.
stream_zip`): each file of the snapshot's manifest at its path, all dated
when the snapshot was taken. Each file is read from its blob in 64 KiB
pieces, so the server holds a few chunks, never the snapshot.

A snapshot never changes, so unlike a live workspace's export nothing may
be silently left out: each blob is checked as it streams (its size and
SHA-256 against the manifest), and a blob that is missing (the snapshot was
deleted while it downloaded) or does not hold what the manifest says (a
damaged data directory) ends the stream with an error, so the client gets a
failed download, never a zip that looks whole but is not.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sandpit.history.blobs import BlobStore
from sandpit.workspaces.archive import ZipMember, read_chunks, stream_zip

log = logging.getLogger(__name__)


class SnapshotExportError(Exception):
    """A snapshot's blob is missing or does not match its manifest (ends the export)."""


@dataclass(frozen=True)
class ManifestEntry:
    """One file of a snapshot, copied out of the database before streaming starts
    (the stream outlives the request's database session)."""

    path: str
    sha256: str
    size: int


def snapshot_zip(
    blobs: BlobStore, files: Sequence[ManifestEntry], taken_at: datetime
) -> Iterator[bytes]:
    """Yield the zip of a snapshot's `files` (sorted by path), chunk by chunk.

    Blocking: iterate it in a worker thread (Starlette does, for a plain
    iterator). Raises `SnapshotExportError` mid-stream, see the module docstring.
    """
    if taken_at.tzinfo is None:  # SQLite gives back naive UTC times
        taken_at = taken_at.replace(tzinfo=UTC)
    return stream_zip(_members(blobs, files, taken_at.timestamp()))


def _members(blobs: BlobStore, files: Sequence[ManifestEntry], mtime: float) -> Iterator[ZipMember]:
    for entry in files:
        try:
            fd = blobs.open(entry.sha256)
        except FileNotFoundError:
            log.warning("snapshot export: blob %s of %r is gone", entry.sha256, entry.path)
            raise SnapshotExportError(
                f"The content of '{entry.path}' is no longer stored."
            ) from None
        try:
            yield entry.path, mtime, _checked(read_chunks(fd), entry)
        finally:
            os.close(fd)


def _checked(chunks: Iterator[bytes], entry: ManifestEntry) -> Iterator[bytes]:
    """Pass `chunks` through, then raise if they were not the manifest's content."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > entry.size:
            break
        digest.update(chunk)
        yield chunk
    if size != entry.size or digest.hexdigest() != entry.sha256:
        log.error("snapshot export: blob %s of %r is damaged", entry.sha256, entry.path)
        raise SnapshotExportError(f"The stored content of '{entry.path}' is damaged.")
