"""Unmount workspace volumes nobody has used for a while (`Volumes.unmount_idle`).

Each mounted volume holds a loop device and an ext4 journal thread; kept
mounted for as long as the server runs, a host with thousands of
workspaces runs out of loop devices. The reaper looks every few seconds and
unmounts the volumes idle for `WORKSPACE_VOLUME_IDLE_S` whose workspace has
no live sandbox (`in_use`, asked of the sandbox manager by the app). The
next file operation or sandbox start mounts the volume again. Each round
also thaws a volume left frozen by a killed backup (`sandpit.workspaces.freeze`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sandpit.workspaces.freeze import freeze_lock, thaw_left_frozen
from sandpit.workspaces.volume import Volumes

log = logging.getLogger(__name__)

# How often to look, at most; short idle times (tests) are looked at sooner.
MAX_INTERVAL_S = 30.0


class VolumeReaper:
    """Legal states: created → started (`start()`) → closed (`close()`)."""

    def __init__(self, volumes: Volumes, idle_s: float, in_use: Callable[[], set[str]]) -> None:
        self.volumes = volumes
        self.idle_s = idle_s
        self.in_use = in_use
        self.interval_s = max(0.2, min(MAX_INTERVAL_S, idle_s / 4))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._reap_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def reap(self) -> int:
        """Unmount the idle volumes now; how many were unmounted.

        First thaw any volume a killed `sandpit backup` left frozen (its
        workspace would hang until then), unless a backup is running now.
        """
        await asyncio.to_thread(self._thaw_left_frozen)
        busy = self.in_use()
        unmounted = await asyncio.to_thread(self.volumes.unmount_idle, self.idle_s, busy)
        if unmounted:
            log.info("unmounted %d idle workspace volumes", len(unmounted))
        return len(unmounted)

    def _thaw_left_frozen(self) -> None:
        with freeze_lock(self.volumes.workspaces_dir, wait=False) as no_backup_running:
            if no_backup_running:
                thaw_left_frozen(self.volumes.workspaces_dir)

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.reap()
            except Exception:
                log.exception("unmounting idle workspace volumes failed")
