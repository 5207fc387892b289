"""One sandbox per active workspace: started on first need, ended by its limits.

The manager owns the lifetime rules: a sandbox ends when it reaches its
lifetime limit, when it has been idle (no process running and nobody
attached) for the idle timeout, or on request; the next need starts a fresh
one. Starting is serialized per workspace so two requests at once share one
sandbox.

Every start passes `Admission` first (the owner's cap on sandboxes, the host's
memory budget, the owner's start rate). The check and the record of the
start being under way (`_starting`) happen with no await between them, so
two starts at once cannot both take the last place.

CPU is shared per user, not per sandbox: the backends put a user's
sandboxes in one cgroup of theirs (see `sandpit.sandbox.cgroups.CgroupDriver`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sandpit.sandbox.admission import Admission, Held
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
        admission: Admission | None = None,
        on_started: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.backend = backend
        self.limits = limits
        # None: every start is admitted (tests of the lifecycle alone).
        self.admission = admission
        self._on_started = on_started
        # Other sandboxes starting now under the same admission (the language
        # servers'; set by the app once they exist): counted at their reserve
        # too, so a start on either side sees the other's.
        self.starting_elsewhere: Callable[[], int] = lambda: 0
        # workspace -> owner, for sandboxes running or starting.
        self._owners: dict[str, str] = {}
        self._starting: set[str] = set()
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

    def workspaces_with_sandbox(self) -> set[str]:
        """Workspaces whose sandbox runs or is still ending (their files are in use)."""
        return set(self._sandboxes)

    def running_workspaces(self) -> list[str]:
        """The workspaces whose sandbox is running now."""
        return [w for w, sandbox in self._sandboxes.items() if sandbox.ended_reason is None]

    def last_end(self, workspace_id: str) -> EndReason | None:
        """Why the workspace's previous sandbox ended, if one did."""
        return self._ended.get(workspace_id)

    def running(self) -> list[Sandbox]:
        """Every sandbox running now."""
        return [s for s in self._sandboxes.values() if s.ended_reason is None]

    def starting_count(self) -> int:
        """How many of this manager's sandboxes are starting (memory not measurable yet)."""
        return len(self._starting)

    def _all_starting(self) -> int:
        return len(self._starting) + self.starting_elsewhere()

    def owner_of(self, workspace_id: str) -> str | None:
        """The user whose sandbox runs (or starts) for the workspace, if one does."""
        return self._owners.get(workspace_id)

    def is_busy(self, workspace_id: str) -> bool:
        """Whether a run or an attached terminal uses the workspace's sandbox now."""
        return self._busy.get(workspace_id, 0) > 0

    def held_by(self, owner_id: str) -> list[Held]:
        """The sandboxes `owner_id` holds (running or starting), oldest first."""
        held = [
            w
            for w, owner in self._owners.items()
            if owner == owner_id and (w in self._starting or self.current(w) is not None)
        ]
        held.sort(key=lambda w: self._started.get(w, float("inf")))
        return [Held(w, self.is_busy(w)) for w in held]

    def check_admission(self, workspace_id: str, owner_id: str) -> None:
        """Raise what `get` would raise if it had to start a sandbox now (nothing if one runs).

        For requests that start their sandbox in the background (runs): the
        refusal then reaches the client as a status, not as a failed run.
        """
        if self.admission is None or self.current(workspace_id) is not None:
            return
        if workspace_id in self._starting:
            return
        self.admission.check(owner_id, self.held_by(owner_id), self._all_starting(), record=False)

    async def get(self, workspace_id: str, owner_id: str = "") -> Sandbox:
        """The workspace's running sandbox, started now if there is none.

        A start is admitted first (see `Admission.check`, whose refusals this
        raises); `owner_id` is the workspace's owner, whose caps it counts
        against. Raises `SandboxError` if the backend cannot start it.
        """
        lock = self._locks.setdefault(workspace_id, asyncio.Lock())
        async with lock:
            sandbox = self.current(workspace_id)
            if sandbox is not None:
                self.touch(workspace_id)
                return sandbox
            if self.admission is not None:
                self.admission.check(owner_id, self.held_by(owner_id), self._all_starting())
            self._owners[workspace_id] = owner_id
            self._starting.add(workspace_id)
            spec = SandboxSpec(
                sandbox_id=uuid.uuid4().hex,
                workspace_id=workspace_id,
                workspace_dir=self._workspace_dir(workspace_id),
                limits=self.limits,
                owner=owner_id,
            )
            began = time.monotonic()
            try:
                sandbox = await self.backend.start(spec)
            except BaseException:
                self._owners.pop(workspace_id, None)
                raise
            finally:
                self._starting.discard(workspace_id)
            self._on_started(time.monotonic() - began)
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
            if sandbox.workspace_id not in self._starting:
                self._owners.pop(sandbox.workspace_id, None)
