"""The one watcher that sees what sandboxes change: runs, terminal commands, pip.

Every `HISTORY_SCAN_INTERVAL_S` it scans the workspaces whose sandbox is
running (and, once more, each whose sandbox has just ended), compares each
kept file's size and modification time with the previous scan, and records
the changed ones as versions with source ``sandbox``. Bounded: a scan is the
file API's listing (at most twice the file quota of entries) and reads only
changed files within `MAX_FILE_BYTES`; debounced: the scan interval, and the
service's coalescing window (one version per file per window while a program
keeps rewriting it). A change the server made itself (an editor save, a
restore) is already the latest version, so the scan finds nothing new.

The scan holds the workspace's history lock, as API writes do, so a save is
recorded as the editor's and not seen first as a sandbox change. The first
scan of a workspace (after a server start) reads every kept file once and
records only those whose content differs from their latest version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

from anyio import to_thread

from sandpit.errors import SandpitError
from sandpit.history import rules
from sandpit.history.service import HistoryService
from sandpit.workspaces.fs import WorkspaceFS
from sandpit.workspaces.store import workspace_fs

log = logging.getLogger(__name__)

# What a scan remembers of a file: its size and modification time.
Seen = dict[str, tuple[int, float]]


class HistoryWatcher:
    def __init__(self, history: HistoryService, active: Callable[[], Iterable[str]]) -> None:
        self.history = history
        self.settings = history.settings
        self._active = active
        self._seen: dict[str, Seen] = {}
        self._task: asyncio.Task[None] | None = None

    def open(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # What the sandboxes changed since the last tick is not lost.
        with contextlib.suppress(Exception):
            await self.tick()

    async def _forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.history_scan_interval_s)
            try:
                await self.tick()
            except Exception:
                log.exception("history scan failed")

    async def tick(self) -> None:
        """Scan every workspace with a running sandbox, and those whose sandbox just ended."""
        active = set(self._active())
        for workspace_id in sorted(active | set(self._seen)):
            try:
                await self.scan(workspace_id)
            except SandpitError:  # the workspace was deleted meanwhile
                self._seen.pop(workspace_id, None)
            if workspace_id not in active:
                self._seen.pop(workspace_id, None)

    async def scan(self, workspace_id: str) -> int:
        """Record what changed in the workspace since its previous scan; return how many."""
        owner_id = await self.history.owner_of(workspace_id)
        if owner_id is None:
            self._seen.pop(workspace_id, None)
            return 0
        fs = workspace_fs(self.settings, workspace_id)
        async with self.history.lock(workspace_id):
            previous = self._seen.get(workspace_id)
            seen, changed = await to_thread.run_sync(
                _changes, fs, previous, self.settings.max_file_bytes
            )
            self._seen[workspace_id] = seen
            return await self.history.record(workspace_id, owner_id, changed, "sandbox")


def _changes(
    fs: WorkspaceFS, previous: Seen | None, max_bytes: int
) -> tuple[Seen, list[tuple[str, bytes]]]:
    """The kept files' (size, mtime) now, and the content of those that changed."""
    seen: Seen = {}
    changed: list[tuple[str, bytes]] = []
    for entry in fs.list():
        if entry.kind != "file" or entry.size > max_bytes or not rules.is_kept(entry.path):
            continue
        state = (entry.size, entry.mtime)
        if previous is not None and previous.get(entry.path) == state:
            seen[entry.path] = state
            continue
        try:
            changed.append((entry.path, fs.read(entry.path)))
        except SandpitError:
            continue  # vanished or swapped meanwhile: the next scan sees it again
        seen[entry.path] = state
    return seen, changed
