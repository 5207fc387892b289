"""The backup archive: a tar file whose last member is a manifest of all the others.

Layout (every name under `sandpit-backup/`):

    database/sandpit.db        SQLite, a copy made by the online backup API
    database/postgres.dump     or PostgreSQL, `pg_dump --format=custom`
    workspaces/<id>/...        every workspace's files, links and folders
    data/<path>                every other store under the data directory
    settings.json              the settings that matter (no secret)
    manifest.json              last: versions, and the size and SHA-256 of every file

The manifest comes last because only then are the checksums known; a
truncated archive therefore has no manifest and is refused as such.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from sandpit.errors import SandpitError

ROOT = "sandpit-backup"
MANIFEST = f"{ROOT}/manifest.json"
FORMAT = 1
CHUNK = 1024 * 1024


class BackupError(SandpitError):
    """A backup or restore could not be made; `detail` says why in a sentence."""


@dataclass
class Manifest:
    """What a backup holds. `files` maps an archive name to `[size, sha256]`."""

    sandpit_version: str
    schema_revision: str | None
    database: str  # "sqlite" or "postgresql"
    created_at: str
    files: dict[str, list[Any]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    workspaces: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        return json.dumps(self.__dict__, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """Parse a manifest; `BackupError` if it is not one this version can read."""
        try:
            data = json.loads(raw)
            manifest = cls(**data)
        except (ValueError, TypeError) as exc:
            raise BackupError(
                "The backup's manifest is unreadable; the backup is damaged."
            ) from exc
        if manifest.format != FORMAT:
            raise BackupError(
                f"The backup has format {manifest.format}; this version reads format {FORMAT}."
            )
        return manifest


class HashingReader:
    """Reads from `source`, counting and hashing what passes through (all tarfile calls)."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


class ArchiveWriter:
    """Appends members to the backup tar and records each in the manifest."""

    def __init__(self, tar: tarfile.TarFile, manifest: Manifest) -> None:
        self.tar = tar
        self.manifest = manifest

    def directory(self, name: str, mode: int, mtime: float) -> None:
        info = tarfile.TarInfo(f"{ROOT}/{name}")
        info.type = tarfile.DIRTYPE
        info.mode = mode & 0o7777
        info.mtime = int(mtime)
        self.tar.addfile(info)

    def link(self, name: str, target: str, mtime: float) -> None:
        info = tarfile.TarInfo(f"{ROOT}/{name}")
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
        info.mtime = int(mtime)
        self.tar.addfile(info)
        self.manifest.links[info.name] = target

    def file(self, name: str, source: IO[bytes], size: int, mode: int, mtime: float) -> None:
        """Add `size` bytes of `source` (which must not change while read)."""
        info = tarfile.TarInfo(f"{ROOT}/{name}")
        info.size = size
        info.mode = mode & 0o7777
        info.mtime = int(mtime)
        reader = HashingReader(source)
        self.tar.addfile(info, cast(IO[bytes], reader))
        if reader.size < size:  # pragma: no cover - tarfile raises first
            raise BackupError(f"{name} shrank while it was being copied.")
        self.manifest.files[info.name] = [size, reader.digest.hexdigest()]

    def data(self, name: str, content: bytes) -> None:
        self.file(name, io.BytesIO(content), len(content), 0o600, 0)

    def finish(self) -> None:
        """Write the manifest as the last member."""
        raw = self.manifest.to_bytes()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(raw)
        info.mode = 0o600
        self.tar.addfile(info, io.BytesIO(raw))


def members(path: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    """Every member of the archive at `path`, in order; `BackupError` if unreadable."""
    try:
        with tarfile.open(path, "r:*") as tar:
            while True:
                member = tar.next()
                if member is None:
                    return
                yield tar, member
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(
            f"{path} is not a complete backup archive ({exc}); it is truncated or damaged."
        ) from exc
