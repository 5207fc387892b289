"""Workspace import from a zip: as a new workspace, or into an existing one.

The zip arrives spooled to a file (`spooled_upload`), is checked whole by
`sandpit.workspaces.archive.check_zip` before anything is written, and only
then unpacked. A new workspace is created only once its zip passed the
check; if unpacking it still fails (a disk error), the workspace is deleted
again, so an error leaves nothing behind.

Import into an existing workspace adds the zip's files, replacing files of
the same names and keeping the others. Just before it writes, an automatic
snapshot of the workspace is taken ("Before import"), so the import can be
undone by restoring it. Every imported file gets a version with the source
`import` in its history.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.config import Settings
from sandpit.db.models import User, Workspace
from sandpit.errors import BadRequest, PayloadTooLarge, QuotaExceeded, SandpitError
from sandpit.history.service import HistoryService
from sandpit.services import workspaces
from sandpit.workspaces._checks import human_size
from sandpit.workspaces.archive import ImportPlan, check_zip, unpack
from sandpit.workspaces.fs import WorkspaceFS
from sandpit.workspaces.store import workspace_fs

_SPOOL_WRITE = 1024 * 1024
_RECORD_BATCH = 8 * 1024 * 1024


@dataclass(frozen=True)
class ImportResult:
    """What an import into an existing workspace wrote."""

    files: int
    bytes: int
    snapshot_before: str


@contextlib.contextmanager
def spool_file(settings: Settings) -> Iterator[BinaryIO]:
    """An anonymous temporary file under the data directory (on disk, not in memory)."""
    folder = settings.data_dir / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder) as spool:
        yield spool


async def spool_upload(chunks: AsyncIterator[bytes], spool: BinaryIO, limit: int) -> None:
    """Copy a request body into `spool`; `PayloadTooLarge` as soon as it passes `limit`."""
    size = 0
    pending: list[bytes] = []
    pending_bytes = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The zip is larger than the {human_size(limit)} import limit.")
        pending.append(chunk)
        pending_bytes += len(chunk)
        if pending_bytes >= _SPOOL_WRITE:
            await to_thread.run_sync(spool.write, b"".join(pending))
            pending.clear()
            pending_bytes = 0
    await to_thread.run_sync(spool.write, b"".join(pending))
    await to_thread.run_sync(spool.flush)


def _check(settings: Settings, spool: BinaryIO) -> ImportPlan:
    return check_zip(
        spool,
        max_files=settings.workspace_quota_files,
        max_bytes=settings.workspace_quota_bytes,
        max_ratio=settings.import_max_ratio,
    )


async def import_new(
    db: AsyncSession,
    settings: Settings,
    history: HistoryService,
    user: User,
    name: str,
    spool: BinaryIO,
) -> Workspace:
    """Create the workspace `name` holding the zip's files.

    Raises what `check_zip` raises (nothing is created), and what
    `workspaces.create` raises for the name.
    """
    workspaces.clean_name(name)  # a bad name is refused before the zip is read
    plan = await to_thread.run_sync(_check, settings, spool)
    workspace = await workspaces.create(db, settings, user, name)
    try:
        fs = workspace_fs(settings, workspace.id)
        async with history.lock(workspace.id):
            await to_thread.run_sync(unpack, spool, plan, fs)
            await _record_imported(history, fs, workspace, plan)
    except BaseException:
        await workspaces.delete(db, settings, workspace)
        raise
    return workspace


async def import_into(
    settings: Settings, history: HistoryService, workspace: Workspace, spool: BinaryIO
) -> ImportResult:
    """Add the zip's files to `workspace`, replacing files of the same names.

    Raises what `check_zip` raises, `QuotaExceeded` when the workspace with
    the zip's files would pass its quota, `BadRequest` when a name is a file
    in one and a folder (or link) in the other; in each case nothing is
    written and no snapshot is taken.
    """
    fs = workspace_fs(settings, workspace.id)
    plan = await to_thread.run_sync(_check, settings, spool)
    await to_thread.run_sync(_check_room, fs, plan)
    async with history.lock(workspace.id):
        snapshot = await history.take_snapshot(
            workspace.id, workspace.owner_id, label="Before import", automatic=True
        )
        await to_thread.run_sync(unpack, spool, plan, fs)
        await _record_imported(history, fs, workspace, plan)
    return ImportResult(files=len(plan.files), bytes=plan.total_bytes, snapshot_before=snapshot.id)


def _check_room(fs: WorkspaceFS, plan: ImportPlan) -> None:
    """Refuse an import that could not be written whole: no room, or a clash of kinds.

    Checked before anything is written, so that an import never stops half
    way: the quota (counting replaced files), a file of the zip where the
    workspace has a folder, and a folder of the zip where the workspace has
    a file or a link (a link is never followed).
    """
    everything = {entry.path: entry for entry in fs.list(include_dirs=True)}
    for path in plan.files:
        found = everything.get(path)
        if found is not None and found.kind == "dir":
            raise BadRequest(
                f"The zip holds a file '{path}', but the workspace has a folder there; "
                "nothing was imported."
            )
    folders = set(plan.folders) | {
        "/".join(parts[:depth])
        for parts in (path.split("/") for path in plan.files)
        for depth in range(1, len(parts))
    }
    for folder in sorted(folders):
        found = everything.get(folder)
        if found is not None and found.kind != "dir":
            what = "a link" if found.kind == "link" else "a file"
            raise BadRequest(
                f"The zip holds a folder '{folder}', but the workspace has {what} there; "
                "nothing was imported."
            )
    existing = {path: entry for path, entry in everything.items() if entry.kind == "file"}
    used = fs.usage()
    replaced = [existing[path] for path in plan.files if path in existing]
    more_bytes = plan.total_bytes - sum(entry.size for entry in replaced)
    more_files = len(plan.files) - len(replaced)
    if used.bytes + more_bytes > fs.max_total_bytes:
        raise QuotaExceeded(
            "Importing this zip would take the workspace past its "
            f"{human_size(fs.max_total_bytes)} storage limit; nothing was imported."
        )
    if used.files + more_files > fs.max_files:
        raise QuotaExceeded(
            f"Importing this zip would take the workspace past its limit of {fs.max_files} "
            "files; nothing was imported."
        )


async def _record_imported(
    history: HistoryService, fs: WorkspaceFS, workspace: Workspace, plan: ImportPlan
) -> None:
    """Give each imported file a version with the source `import` (the caller holds
    the workspace's history lock), read in batches of at most `_RECORD_BATCH`
    bytes so a large import is never held in memory whole."""
    batch: list[tuple[str, bytes]] = []
    size = 0
    for path in plan.files:
        try:
            data = await to_thread.run_sync(fs.read, path)
        except SandpitError:
            continue  # too large for history, or gone: the history rules skip it too
        batch.append((path, data))
        size += len(data)
        if size >= _RECORD_BATCH:
            await history.record(workspace.id, workspace.owner_id, batch, "import")
            batch, size = [], 0
    await history.record(workspace.id, workspace.owner_id, batch, "import")
