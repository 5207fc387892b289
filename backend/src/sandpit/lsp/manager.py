"""At most one language session per workspace, owned by the socket that opened it.

A second socket for the same workspace (another tab) takes the session over:
the older socket is told (`replaced`) and closes, its servers stop, and the
new socket gets fresh ones (LSP's `initialize` is once per connection, so a
session cannot be shared). Every session ends with the server (`close`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sandpit.lsp.session import Deliver, LanguageSession, LspSettings
from sandpit.sandbox.base import SandboxBackend


class LanguageServers:
    def __init__(
        self,
        backend: SandboxBackend,
        workspace_dir: Callable[[str], Path],
        settings: LspSettings,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self._workspace_dir = workspace_dir
        self._sessions: dict[str, LanguageSession] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def current(self, workspace_id: str) -> LanguageSession | None:
        return self._sessions.get(workspace_id)

    def workspaces(self) -> set[str]:
        """Workspaces with a session (their files are mounted in its sandbox)."""
        return set(self._sessions)

    async def open(self, workspace_id: str, owner: str, deliver: Deliver) -> LanguageSession:
        """A new session for the workspace, ending the one before it (its `ended`: "replaced").

        Raises `SandboxError` if the sandbox cannot start.
        """
        async with self._locks.setdefault(workspace_id, asyncio.Lock()):
            previous = self._sessions.pop(workspace_id, None)
            if previous is not None:
                if not previous.ended.done():
                    previous.ended.set_result("replaced")
                await previous.close()
            session = await LanguageSession.start(
                self.backend,
                workspace_id=workspace_id,
                workspace_dir=self._workspace_dir(workspace_id),
                owner=owner,
                settings=self.settings,
                deliver=deliver,
            )
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
