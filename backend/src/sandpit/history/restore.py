"""Restores: a file from a version, a file or the whole workspace from a snapshot.

Every restore is undoable and never half-done:

- it is refused with `Conflict` while a run is running in the workspace (the
  run could rewrite files under it and leave a mix);
- the workspace's state just before is saved as an automatic snapshot
  (whose id the caller returns as ``snapshot_before``), and each file written
  is recorded as a version with source ``restore``;
- a whole-workspace restore checks the quota for the final state before it
  touches anything, then deletes the kept files the snapshot lacks and
  writes the ones that differ. Files history does not keep (`rules`: `.local/`
  and other generated folders) are left as they are.

`busy` tells whether a run is running in a workspace (the run service's
count; nothing runs where sandboxes are unavailable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from anyio import to_thread

from sandpit.errors import Conflict, QuotaExceeded, SandpitError
from sandpit.history import rules
from sandpit.history.blobs import sha256_of
from sandpit.history.service import HistoryService
from sandpit.workspaces._checks import human_size
from sandpit.workspaces.fs import Entry, WorkspaceFS
from sandpit.workspaces.store import workspace_fs

BUSY_SENTENCE = (
    "A run is still running in this workspace; wait for it to finish or stop it, then restore."
)


@dataclass(frozen=True)
class Restored:
    """What a restore did: the snapshot of the state before, and the paths it changed."""

    snapshot_before: str
    written: list[str]
    deleted: list[str]


class Restorer:
    def __init__(self, history: HistoryService, busy: Callable[[str], bool]) -> None:
        self.history = history
        self.busy = busy

    def _refuse_if_busy(self, workspace_id: str) -> None:
        if self.busy(workspace_id):
            raise Conflict(BUSY_SENTENCE)

    async def version(self, workspace_id: str, owner_id: str, version_id: str) -> Restored:
        """Put the content of version `version_id` back at its path."""
        async with self.history.sessions() as db:
            version = await self.history.version(db, workspace_id, version_id)
            data = await self.history.version_content(db, workspace_id, version_id)
        return await self._apply(
            workspace_id, owner_id, {version.path: data}, whole=False, label=version.path
        )

    async def snapshot(
        self, workspace_id: str, owner_id: str, snapshot_id: str, path: str | None = None
    ) -> Restored:
        """Make the workspace hold exactly the snapshot's files, or restore only `path`."""
        async with self.history.sessions() as db:
            snapshot = await self.history.snapshot(db, workspace_id, snapshot_id)
            if path is not None:
                manifest = [await self.history.snapshot_file(db, snapshot_id, path)]
            else:
                manifest = await self.history.snapshot_files(db, snapshot_id)
        files = {item.path: await self.history.content(item.sha256) for item in manifest}
        label = f"“{snapshot.label}”" if path is None else f"{path} from “{snapshot.label}”"
        return await self._apply(workspace_id, owner_id, files, whole=path is None, label=label)

    async def _apply(
        self, workspace_id: str, owner_id: str, files: dict[str, bytes], *, whole: bool, label: str
    ) -> Restored:
        self._refuse_if_busy(workspace_id)
        async with self.history.lock(workspace_id):
            self._refuse_if_busy(workspace_id)
            before = await self.history.take_snapshot(
                workspace_id, owner_id, label=f"Before restoring {label}", automatic=True
            )
            fs = workspace_fs(self.history.settings, workspace_id)
            written, deleted = await to_thread.run_sync(_write, fs, files, whole)
            await self.history.record(
                workspace_id, owner_id, [(p, files[p]) for p in written], "restore"
            )
        return Restored(before.id, written, deleted)


def _write(fs: WorkspaceFS, files: dict[str, bytes], whole: bool) -> tuple[list[str], list[str]]:
    """Write `files` that differ (and with `whole`, delete kept files not among them)."""
    current = {e.path: e for e in fs.list() if e.kind == "file"}
    doomed = sorted(p for p in current if whole and rules.is_kept(p) and p not in files)
    changes: list[str] = []
    for path, data in sorted(files.items()):
        entry = current.get(path)
        if entry is not None and entry.size == len(data):
            try:
                if sha256_of(fs.read(path)) == sha256_of(data):
                    continue
            except SandpitError:
                pass
        changes.append(path)
    if whole:
        _check_final_size(fs, current, files, doomed)
    for path in doomed:
        fs.delete(path)
    for path in changes:
        fs.put_back(path, files[path], check_quota=not whole)
    return changes, doomed


def _check_final_size(
    fs: WorkspaceFS, current: dict[str, Entry], files: dict[str, bytes], doomed: list[str]
) -> None:
    """Refuse a whole restore whose result would not fit the workspace's quota."""
    usage = fs.usage()
    replaced = set(doomed) | set(files)
    kept_elsewhere = usage.bytes - sum(e.size for p, e in current.items() if p in replaced)
    final_bytes = kept_elsewhere + sum(len(d) for d in files.values())
    final_files = usage.files - len([p for p in doomed if p in current])
    final_files += len([p for p in files if p not in current])
    if final_bytes > fs.max_total_bytes or final_files > fs.max_files:
        raise QuotaExceeded(
            "The snapshot does not fit the workspace's quota "
            f"({human_size(fs.max_total_bytes)}, {fs.max_files} files) next to the files "
            "history does not keep (such as .local/); remove some of those first."
        )
