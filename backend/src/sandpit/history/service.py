"""Versions of files and snapshots of workspaces: recording, reading, quota and eviction.

One `HistoryService` per server (`AppContext.history`). Its contract:

- `record(...)` stores a version of each given file unless its content equals
  the latest version of that path. Changes from one automatic source
  (`editor`, `api`, `sandbox`) within `HISTORY_COALESCE_S` of that path's
  latest version from the same source replace that version's content
  instead of adding one: at most one version per file per window while it
  keeps changing. `restore` and `import` versions are never coalesced.
- `take_snapshot(...)` freezes the workspace's kept files (see `rules`) into a
  snapshot; nothing ever changes a snapshot afterwards, so a submission can
  be one. `automatic=True` marks the ones made by the system (before a
  restore, before an import) that eviction may remove.
- Quota (`HISTORY_QUOTA_BYTES`, per user, each distinct content counted
  once): after recording, the oldest file versions and automatic snapshots
  of that user go first; a named snapshot is never removed, and making one
  past the quota is refused with `QuotaExceeded`.
- `collect()` removes blobs nothing refers to (after eviction, after a
  workspace was deleted: its versions and snapshots go with it by cascade).

Restores live in `sandpit.history.restore`; the watcher in `.watcher`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from anyio import to_thread
from sqlalchemy import delete, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandpit.config import Settings
from sandpit.db.models import (
    FileVersion,
    HistoryBlob,
    Snapshot,
    SnapshotFile,
    SubmissionFile,
    Workspace,
)
from sandpit.errors import NotFound, QuotaExceeded, SandpitError
from sandpit.history import rules
from sandpit.history.blobs import BlobStore
from sandpit.history.rows import CHUNK, Stored, ensure_blob_rows, latest_versions
from sandpit.workspaces._checks import human_size
from sandpit.workspaces.store import workspace_fs

log = logging.getLogger(__name__)

# A version coalescing faster than it is read: give up after this many new contents.
_CONTENT_TRIES = 5

Source = Literal["editor", "api", "sandbox", "restore", "import"]
SOURCES: tuple[Source, ...] = ("editor", "api", "sandbox", "restore", "import")
_COALESCED = frozenset({"editor", "api", "sandbox"})
LABEL_MAX = 200
_EVICT_BATCH = 25
T = TypeVar("T")


class HistoryService:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[Any]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = BlobStore(settings.blobs_dir)
        self._locks: dict[str, asyncio.Lock] = {}
        # Blobs whose rows are gone but whose files a backup kept pinned; removed
        # by a later `collect` unless a row names them again by then.
        self._unremoved: set[str] = set()

    def lock(self, workspace_id: str) -> asyncio.Lock:
        """The workspace's history lock: held while files change and their versions are
        recorded (API writes, the watcher's scan, restores), so a version is
        attributed to the source that made it and a restore never interleaves."""
        return self._locks.setdefault(workspace_id, asyncio.Lock())

    # -- storing contents ---------------------------------------------------------

    async def store(self, files: Sequence[tuple[str, bytes]]) -> list[Stored]:
        """Put the kept ones of `files` into the blob store (the caller holds the gate)."""
        kept = [
            (path, data)
            for path, data in files
            if rules.is_kept(path) and len(data) <= self.settings.max_file_bytes
        ]

        def put_all() -> list[Stored]:
            names = self.blobs.put_many([data for _, data in kept])
            return [Stored(p, sha, len(d)) for (p, d), sha in zip(kept, names, strict=True)]

        return await to_thread.run_sync(put_all)

    async def content(self, sha256: str) -> bytes:
        try:
            return await to_thread.run_sync(self.blobs.get, sha256)
        except FileNotFoundError:
            # A row without its blob: the data directory lost a file.
            log.error("blob %s is missing from %s", sha256, self.blobs.root)
            raise NotFound("This version's content is no longer stored.") from None

    # -- versions -------------------------------------------------------------------

    async def record(
        self,
        workspace_id: str,
        owner_id: str,
        files: Sequence[tuple[str, bytes]],
        source: Source,
    ) -> int:
        """Record a version of each of `files` (see the module docstring); return how many
        versions were added or updated. Files history skips (`rules`) are ignored."""
        if not files:
            return 0
        replaced: set[str] = set()
        async with self.blobs.gate.writing():
            stored = await self.store(files)
            if not stored:
                return 0
            async with self.sessions() as db:
                await ensure_blob_rows(db, stored)
                changed = await self._add_versions(db, workspace_id, stored, source, replaced)
                await db.commit()
        if replaced:
            await self.collect(replaced)
        if changed:
            await self.enforce_quota(owner_id, keep_versions={v.id for v in changed})
        return len(changed)

    async def _add_versions(
        self,
        db: AsyncSession,
        workspace_id: str,
        stored: Sequence[Stored],
        source: Source,
        replaced: set[str],
    ) -> list[FileVersion]:
        """Add or coalesce versions; the contents coalescing replaced go into `replaced`."""
        latest = await latest_versions(db, workspace_id, [s.path for s in stored])
        now = datetime.now(UTC)
        window = timedelta(seconds=self.settings.history_coalesce_s)
        changed: list[FileVersion] = []
        for item in stored:
            last = latest.get(item.path)
            if last is not None and last.sha256 == item.sha256:
                continue
            if (
                last is not None
                and source in _COALESCED
                and last.source == source
                and now - last.created_at < window
            ):
                replaced.add(last.sha256)
                last.sha256, last.size, last.updated_at = item.sha256, item.size, now
                changed.append(last)
                continue
            version = FileVersion(
                workspace_id=workspace_id,
                path=item.path,
                sha256=item.sha256,
                size=item.size,
                source=source,
                created_at=now,
                updated_at=now,
            )
            db.add(version)
            latest[item.path] = version
            changed.append(version)
        await db.flush()
        return changed

    async def versions(self, db: AsyncSession, workspace_id: str, path: str) -> list[FileVersion]:
        """The versions of `path`, newest first (also for a file deleted since)."""
        rows = await db.scalars(
            select(FileVersion)
            .where(FileVersion.workspace_id == workspace_id, FileVersion.path == path)
            .order_by(FileVersion.created_at.desc(), FileVersion.id)
        )
        return list(rows)

    async def version(self, db: AsyncSession, workspace_id: str, version_id: str) -> FileVersion:
        version = await db.get(FileVersion, version_id)
        if version is None or version.workspace_id != workspace_id:
            raise NotFound("There is no such version.")
        return version

    async def version_content(self, db: AsyncSession, workspace_id: str, version_id: str) -> bytes:
        """The content of a version. Raises NotFound.

        A version inside its coalescing window takes each newer content, and
        the content it replaced is collected at once: between reading the row
        and reading its blob, the blob can go. Then the row is read again, and
        only a row that still names the missing blob is an error.
        """
        version = await self.version(db, workspace_id, version_id)
        for _ in range(_CONTENT_TRIES):
            try:
                return await to_thread.run_sync(self.blobs.get, version.sha256)
            except FileNotFoundError:
                read = version.sha256
                db.expunge(version)
                await db.rollback()  # a fresh read, on any isolation level
                version = await self.version(db, workspace_id, version_id)
                if version.sha256 == read:
                    break
        return await self.content(version.sha256)

    async def deleted_files(
        self, db: AsyncSession, workspace_id: str, existing: Iterable[str]
    ) -> list[FileVersion]:
        """The latest version of every path with history that is not a file now."""
        present = set(existing)
        rows = await db.scalars(
            select(FileVersion)
            .where(FileVersion.workspace_id == workspace_id)
            .order_by(FileVersion.path, FileVersion.created_at.desc())
        )
        latest: dict[str, FileVersion] = {}
        for version in rows:
            if version.path not in present:
                latest.setdefault(version.path, version)
        return sorted(latest.values(), key=lambda v: v.path)

    # -- snapshots --------------------------------------------------------------------

    async def take_snapshot(
        self, workspace_id: str, owner_id: str, *, label: str, automatic: bool = False
    ) -> Snapshot:
        """Freeze the workspace's kept files into a new snapshot and return it.

        What other code calls for an automatic save point (before an import
        into an existing workspace: ``automatic=True``). Raises `NotFound`
        if the workspace's folder is gone, and for a named snapshot
        `QuotaExceeded` when it does not fit the owner's history quota even
        after the automatic versions and snapshots have been evicted.
        """
        label = label.strip()[:LABEL_MAX] or "Snapshot"
        fs = workspace_fs(self.settings, workspace_id)
        async with self.blobs.gate.writing():
            files = await to_thread.run_sync(_read_kept, fs, self.settings.max_file_bytes)
            stored = await self.store(files)
            async with self.sessions() as db:
                await ensure_blob_rows(db, stored)
                snapshot = Snapshot(
                    workspace_id=workspace_id,
                    label=label,
                    automatic=automatic,
                    files=len(stored),
                    bytes=sum(s.size for s in stored),
                    created_at=datetime.now(UTC),
                )
                db.add(snapshot)
                await db.flush()
                db.add_all(
                    SnapshotFile(snapshot_id=snapshot.id, path=s.path, sha256=s.sha256, size=s.size)
                    for s in stored
                )
                await db.commit()
        await self.enforce_quota(owner_id, keep_snapshots={snapshot.id})
        if not automatic:
            async with self.sessions() as db:
                used = await self.usage(db, owner_id)
            if used > self.settings.history_quota_bytes:
                await self.delete_snapshot(snapshot)
                raise QuotaExceeded(
                    f"This snapshot would take your history past its "
                    f"{human_size(self.settings.history_quota_bytes)} limit; delete older "
                    "snapshots first."
                )
        return snapshot

    async def freeze(
        self, workspace_id: str, attach: Callable[[AsyncSession, list[Stored]], Awaitable[T]]
    ) -> T:
        """Store the workspace's kept files as blobs and let `attach` record what refers to
        them (a submission's manifest), in one session it must commit.

        The blob gate is held throughout, so collection cannot remove a blob
        between its write and the reference. Raises `NotFound` if the
        workspace's folder is gone; what `attach` raises, unchanged.
        """
        fs = workspace_fs(self.settings, workspace_id)
        async with self.blobs.gate.writing():
            files = await to_thread.run_sync(_read_kept, fs, self.settings.max_file_bytes)
            stored = await self.store(files)
            async with self.sessions() as db:
                await ensure_blob_rows(db, stored)
                return await attach(db, stored)

    async def snapshots(self, db: AsyncSession, workspace_id: str) -> list[Snapshot]:
        rows = await db.scalars(
            select(Snapshot)
            .where(Snapshot.workspace_id == workspace_id)
            .order_by(Snapshot.created_at.desc(), Snapshot.id)
        )
        return list(rows)

    async def snapshot(self, db: AsyncSession, workspace_id: str, snapshot_id: str) -> Snapshot:
        snapshot = await db.get(Snapshot, snapshot_id)
        if snapshot is None or snapshot.workspace_id != workspace_id:
            raise NotFound("There is no such snapshot.")
        return snapshot

    async def snapshot_files(self, db: AsyncSession, snapshot_id: str) -> list[SnapshotFile]:
        rows = await db.scalars(
            select(SnapshotFile)
            .where(SnapshotFile.snapshot_id == snapshot_id)
            .order_by(SnapshotFile.path)
        )
        return list(rows)

    async def snapshot_file(self, db: AsyncSession, snapshot_id: str, path: str) -> SnapshotFile:
        found = await db.get(SnapshotFile, (snapshot_id, path))
        if found is None:
            raise NotFound(f"'{path}' is not in this snapshot.")
        return found

    async def delete_snapshot(self, snapshot: Snapshot) -> None:
        async with self.sessions() as db:
            await db.execute(delete(Snapshot).where(Snapshot.id == snapshot.id))
            await db.commit()
        await self.collect()

    # -- quota, eviction, collection ------------------------------------------------------

    async def usage(self, db: AsyncSession, owner_id: str) -> int:
        """Bytes of distinct content the user's versions and snapshots refer to."""
        owned = select(Workspace.id).where(Workspace.owner_id == owner_id)
        referenced = union(
            select(FileVersion.sha256).where(FileVersion.workspace_id.in_(owned)),
            select(SnapshotFile.sha256)
            .join(Snapshot, Snapshot.id == SnapshotFile.snapshot_id)
            .where(Snapshot.workspace_id.in_(owned)),
        ).subquery()
        total = await db.scalar(
            select(func.coalesce(func.sum(HistoryBlob.size), 0)).where(
                HistoryBlob.sha256.in_(select(referenced.c[0]))
            )
        )
        return int(total or 0)

    async def enforce_quota(
        self,
        owner_id: str,
        *,
        keep_versions: set[str] | None = None,
        keep_snapshots: set[str] | None = None,
    ) -> int:
        """Evict the user's oldest automatic history until it fits the quota.

        Candidates, oldest first: file versions and automatic snapshots, except
        those in `keep_*` (what was just made). Named snapshots are never
        candidates. Returns how many were evicted; collects their blobs.
        """
        keep_v, keep_s = keep_versions or set(), keep_snapshots or set()
        evicted = 0
        async with self.sessions() as db:
            owned = select(Workspace.id).where(Workspace.owner_id == owner_id)
            while await self.usage(db, owner_id) > self.settings.history_quota_bytes:
                versions = await db.execute(
                    select(FileVersion.id, FileVersion.created_at)
                    .where(FileVersion.workspace_id.in_(owned), FileVersion.id.not_in(keep_v))
                    .order_by(FileVersion.created_at, FileVersion.id)
                    .limit(_EVICT_BATCH)
                )
                snaps = await db.execute(
                    select(Snapshot.id, Snapshot.created_at)
                    .where(
                        Snapshot.workspace_id.in_(owned),
                        Snapshot.automatic.is_(True),
                        Snapshot.id.not_in(keep_s),
                    )
                    .order_by(Snapshot.created_at, Snapshot.id)
                    .limit(_EVICT_BATCH)
                )
                candidates = sorted(
                    [(at, "v", vid) for vid, at in versions] + [(at, "s", sid) for sid, at in snaps]
                )[:_EVICT_BATCH]
                if not candidates:
                    break
                for _, kind, item_id in candidates:
                    table = FileVersion if kind == "v" else Snapshot
                    await db.execute(delete(table).where(table.id == item_id))
                    await db.commit()
                    evicted += 1
                    # One at a time: shared contents make the bytes an item frees
                    # unknown until it is gone.
                    if await self.usage(db, owner_id) <= self.settings.history_quota_bytes:
                        break
        if evicted:
            log.info("evicted %d history items of user %s (quota)", evicted, owner_id)
            await self.collect()
        return evicted

    async def collect(self, among: set[str] | None = None) -> int:
        """Remove every blob no version, snapshot or submission refers to (only those
        `among`, when given: a cheap check of a few); return how many went.

        Submissions count: their files outlive the workspace they came from."""
        async with self.blobs.gate.collecting():
            async with self.sessions() as db:
                versions, files = select(FileVersion.sha256), select(SnapshotFile.sha256)
                submitted = select(SubmissionFile.sha256)
                query = select(HistoryBlob.sha256)
                if among is not None:
                    versions = versions.where(FileVersion.sha256.in_(sorted(among)))
                    files = files.where(SnapshotFile.sha256.in_(sorted(among)))
                    submitted = submitted.where(SubmissionFile.sha256.in_(sorted(among)))
                    query = query.where(HistoryBlob.sha256.in_(sorted(among)))
                referenced = union(versions, files, submitted).subquery()
                query = query.where(HistoryBlob.sha256.not_in(select(referenced.c[0])))
                unreferenced = list(await db.scalars(query))
                for start in range(0, len(unreferenced), CHUNK):
                    chunk = unreferenced[start : start + CHUNK]
                    await db.execute(delete(HistoryBlob).where(HistoryBlob.sha256.in_(chunk)))
                await db.commit()
                # No writer is between a put and its row now (the gate): a blob
                # without a row is referred to by nothing.
                waiting = sorted(self._unremoved)
                named_again: set[str] = set()
                for start in range(0, len(waiting), CHUNK):
                    chunk = waiting[start : start + CHUNK]
                    found = select(HistoryBlob.sha256).where(HistoryBlob.sha256.in_(chunk))
                    named_again.update(await db.scalars(found))
                doomed = (self._unremoved - named_again) | set(unreferenced)
            removed = await to_thread.run_sync(self.blobs.remove_unless_pinned, doomed)
            if removed is None:  # a backup is copying the store: later
                self._unremoved = doomed
                return 0
            self._unremoved = set()
            return removed

    async def owner_of(self, workspace_id: str) -> str | None:
        async with self.sessions() as db:
            owner: str | None = await db.scalar(
                select(Workspace.owner_id).where(Workspace.id == workspace_id)
            )
            return owner


def _read_kept(fs: Any, max_bytes: int) -> list[tuple[str, bytes]]:
    """Read every kept file of the workspace (blocking). Files that vanish, grow past
    the limit or turn into something else while being read are left out."""
    files: list[tuple[str, bytes]] = []
    for entry in fs.list():
        if entry.kind != "file" or entry.size > max_bytes or not rules.is_kept(entry.path):
            continue
        try:
            files.append((entry.path, fs.read(entry.path)))
        except SandpitError:
            continue
    return files
