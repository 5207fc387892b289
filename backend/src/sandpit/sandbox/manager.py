"""One sandbox per active workspace: started on first need, ended by its limits.

The manager owns the lifetime rules: a sandbox ends when it reaches its
lifetime limit, when it has been idle (no process running and nobody
attached) for the idle timeout, or on request; the next need starts a fresh
one. Starting is serialized per workspace so two requests at once share one
sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sandpit.sandbox.base import EndReason, Sandbox, SandboxBackend, SandboxSpec
from sandpit.sandbox.limits import Limits

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 5.0


class SandboxManager:
    def __init__(
        self,
        backend: SandboxBackend,
        limits: Limits,
        workspace_dir: Callable[[str], Path],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend = backend
        self.limits = limits
        self._workspace_dir = workspace_dir
        self._clock = clock
        self._sandboxes: dict[str, Sandbox] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._started: dict[str, float] = {}
        self._last_active: dict[str, float] = {}
        self._busy: dict[str, int] = {}
        self._ended: dict[str, EndReason] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Reap what a previous server process left, then start enforcing lifetimes."""
        reaped = await self.backend.reap_orphans()
        if reaped:
            log.warning("reaped %d sandboxes left by a previous server", len(reaped))
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.backend.close()

    def current(self, workspace_id: str) -> Sandbox | None:
        sandbox = self._sandboxes.get(workspace_id)
        if sandbox is not None and sandbox.ended_reason is not None:
            return None
        return sandbox

    def running_workspaces(self) -> list[str]:
        """The workspaces whose sandbox is running now."""
        return [w for w, sandbox in self._sandboxes.items() if sandbox.ended_reason is None]

    def last_end(self, workspace_id: str) -> EndReason | None:
        """Why the workspace's previous sandbox ended, if one did."""
        return self._ended.get(workspace_id)

    async def get(self, workspace_id: str) -> Sandbox:
        """The workspace's running sandbox, started now if there is none."""
        lock = self._locks.setdefault(workspace_id, asyncio.Lock())
        async with lock:
            sandbox = self.current(workspace_id)
            if sandbox is not None:
                self.touch(workspace_id)
                return sandbox
            spec = SandboxSpec(
                sandbox_id=uuid.uuid4().hex,
                workspace_id=workspace_id,
                workspace_dir=self._workspace_dir(workspace_id),
                limits=self.limits,
            )
            sandbox = await self.backend.start(spec)
            self._sandboxes[workspace_id] = sandbox
            self._started[workspace_id] = self._clock()
            self.touch(workspace_id)
            asyncio.get_running_loop().create_task(self._forget_when_ended(sandbox))
            return sandbox

    def touch(self, workspace_id: str) -> None:
        self._last_active[workspace_id] = self._clock()

    @contextlib.contextmanager
    def busy(self, workspace_id: str):  # type: ignore[no-untyped-def]
        """Mark the workspace's sandbox in use (a run, an attached terminal)."""
        self._busy[workspace_id] = self._busy.get(workspace_id, 0) + 1
        try:
            yield
        finally:
            self._busy[workspace_id] -= 1
            self.touch(workspace_id)

    async def stop(self, workspace_id: str, reason: EndReason = EndReason.STOPPED) -> bool:
        """End the workspace's sandbox; False if none was running."""
        sandbox = self.current(workspace_id)
        if sandbox is None:
            return False
        await sandbox.stop(reason)
        return True

    async def sweep(self) -> None:
        """End sandboxes past their lifetime or idle for too long (called periodically)."""
        now = self._clock()
        for workspace_id, sandbox in list(self._sandboxes.items()):
            if sandbox.ended_reason is not None:
                continue
            age = now - self._started.get(workspace_id, now)
            idle = now - self._last_active.get(workspace_id, now)
            if age >= self.limits.lifetime_s:
                log.info("sandbox of workspace %s reached its lifetime", workspace_id)
                await sandbox.stop(EndReason.LIFETIME)
            elif self._busy.get(workspace_id, 0) == 0 and idle >= self.limits.idle_s:
                log.info("sandbox of workspace %s was idle", workspace_id)
                await sandbox.stop(EndReason.IDLE)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            try:
                await self.sweep()
            except Exception:
                log.exception("sandbox sweep failed")

    async def _forget_when_ended(self, sandbox: Sandbox) -> None:
        reason = await sandbox.wait_ended()
        self._ended[sandbox.workspace_id] = reason
        if self._sandboxes.get(sandbox.workspace_id) is sandbox:
            del self._sandboxes[sandbox.workspace_id]
