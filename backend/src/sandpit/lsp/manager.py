"""At most one language session per workspace, owned by the socket that opened it.

A second socket for the same workspace (another tab) takes the session over:
the older socket is told (`replaced`) and closes, its servers stop, and the
new socket gets fresh ones (LSP's `initialize` is once per connection, so a
session cannot be shared). Every session ends with the server (`close`).

Each session's sandbox holds host memory like the users' sandboxes, so its
start passes the host's memory budget first (`Admission.check_memory`, with
the sandboxes starting meanwhile counted at their reserve); a full host
refuses it with `HostFull` (the socket closes with 1013, try again later;
the editor goes on without language features and reconnects later). It is
not one of the user's sandboxes: it counts against neither their cap nor
their start rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sandpit.lsp.session import Deliver, LanguageSession, LspSettings
from sandpit.sandbox.admission import Admission
from sandpit.sandbox.base import SandboxBackend


class LanguageServers:
    def __init__(
        self,
        backend: SandboxBackend,
        workspace_dir: Callable[[str], Path],
        settings: LspSettings,
        admission: Admission | None = None,
        starting_elsewhere: Callable[[], int] = lambda: 0,
    ) -> None:
        """`admission` None: every start is admitted; `starting_elsewhere`: the
        users' sandboxes starting now (their memory is not measurable yet)."""
        self.backend = backend
        self.settings = settings
        self._admission = admission
        self._starting_elsewhere = starting_elsewhere
        self._starting = 0
        self._workspace_dir = workspace_dir
        self._sessions: dict[str, LanguageSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def starting_count(self) -> int:
        """How many language-server sandboxes are starting now (their memory is not measurable yet).

        The users' sandbox manager counts these in its own admission checks
        (`SandboxManager.starting_elsewhere`), as this counts its starts.
        """
        return self._starting

    def current(self, workspace_id: str) -> LanguageSession | None:
        return self._sessions.get(workspace_id)

    def workspaces(self) -> set[str]:
        """Workspaces with a session (their files are mounted in its sandbox)."""
        return set(self._sessions)

    async def open(self, workspace_id: str, owner: str, deliver: Deliver) -> LanguageSession:
        """A new session for the workspace, ending the one before it (its `ended`: "replaced").

        Raises `HostFull` if the host has no memory for it (checked after the
        session before it ended: its memory is the new one's room),
        `SandboxError` if the sandbox cannot start.
        """
        async with self._locks.setdefault(workspace_id, asyncio.Lock()):
            previous = self._sessions.pop(workspace_id, None)
            if previous is not None:
                if not previous.ended.done():
                    previous.ended.set_result("replaced")
                await previous.close()
            if self._admission is not None:
                # No await from the check to the count: two starts cannot both take the last place.
                self._admission.check_memory(owner, self._starting_elsewhere() + self._starting)
            self._starting += 1
            try:
                session = await LanguageSession.start(
                    self.backend,
                    workspace_id=workspace_id,
                    workspace_dir=self._workspace_dir(workspace_id),
                    owner=owner,
                    settings=self.settings,
                    deliver=deliver,
                )
            finally:
                self._starting -= 1
            self._sessions[workspace_id] = session
            return session

    async def release(self, workspace_id: str, session: LanguageSession) -> None:
        """End `session` (its socket closed); a newer session of the workspace stays."""
        if self._sessions.get(workspace_id) is session:
            del self._sessions[workspace_id]
        await session.close()

    async def end_workspace(self, workspace_id: str) -> None:
        """End the workspace's session (its files are going); its socket closes with 1000."""
        session = self._sessions.pop(workspace_id, None)
        if session is not None:
            if not session.ended.done():
                session.ended.set_result("stopped")
            await session.close()

    async def close(self) -> None:
        """End every session (server shutdown)."""
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
