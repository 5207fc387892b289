"""The terminals of every workspace: creating, finding, closing and culling them.

A terminal is a login shell on a PTY in the workspace's sandbox (the same
sandbox as its runs, started on demand), in its own cgroup leaf so closing it
kills everything it started. Terminals end with their sandbox; the next
terminal starts a fresh one.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sandpit.config import Settings
from sandpit.errors import NotFound, RateLimited
from sandpit.sandbox.base import ExecRequest
from sandpit.sandbox.environment import base_env
from sandpit.sandbox.manager import SandboxManager
from sandpit.security.ratelimit import RateLimiter, retry_after_seconds
from sandpit.terminals.commandlog import CommandLog
from sandpit.terminals.terminal import Terminal, TerminalLimits

log = logging.getLogger(__name__)

SHELL = ["/bin/bash", "-l"]
CREATES_PER_MINUTE = 60
SHUTDOWN_CLOSE = 1001


def terminal_env() -> dict[str, str]:
    """A terminal's environment: the sandbox's, plus what a terminal emulator promises.

    `COLUMNS` and `LINES` are deliberately absent: programs ask the PTY,
    which follows resizes; exported values would go stale.
    """
    return {**base_env(), "TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8"}


class TerminalManager:
    def __init__(
        self,
        settings: Settings,
        sandboxes: SandboxManager,
        limiter: RateLimiter,
        command_log: CommandLog,
    ) -> None:
        self._settings = settings
        self._sandboxes = sandboxes
        self._limiter = limiter
        self.command_log = command_log
        self._limits = TerminalLimits(
            ring_bytes=settings.terminal_ring_bytes,
            line_bytes=settings.terminal_input_line_bytes,
            max_clients=settings.terminal_clients,
            grace_s=settings.terminal_grace_s,
        )
        self._terminals: dict[str, dict[str, Terminal]] = {}
        self._starting: dict[str, int] = {}
        self._starting_by_user: dict[str, int] = {}

    def open(self) -> None:
        self.command_log.open()

    async def close(self) -> None:
        """Server shutdown: close every terminal (clients get 1001), then flush the log."""
        everything = [t for by_id in self._terminals.values() for t in by_id.values()]
        await asyncio.gather(
            *(t.terminate(SHUTDOWN_CLOSE, "The server is restarting.") for t in everything),
            return_exceptions=True,
        )
        await self.command_log.close()

    async def create(self, workspace_id: str, user_id: str, *, rows: int, cols: int) -> Terminal:
        """Start a terminal. Raises `RateLimited` over the caps, `SandboxError` if the
        sandbox cannot start it."""
        wait = self._limiter.hit(f"terminals:{user_id}", CREATES_PER_MINUTE, 60)
        if wait:
            seconds = retry_after_seconds(wait)
            raise RateLimited(
                f"Too many terminals opened in a minute; try again in {seconds} seconds.", seconds
            )
        mine = self._terminals.setdefault(workspace_id, {})
        cap = self._settings.terminals_per_workspace
        if len(mine) + self._starting.get(workspace_id, 0) >= cap:
            self._forget_one_exited(mine)
        if len(mine) + self._starting.get(workspace_id, 0) >= cap:
            raise RateLimited(
                f"This workspace already has {cap} terminals open; close one to open another.", 5
            )
        per_user = self._settings.terminals_per_user
        if self.count_for(user_id) + self._starting_by_user.get(user_id, 0) >= per_user:
            raise RateLimited(
                f"You already have {per_user} terminals open, the most one user may have at "
                "once; close one to open another.",
                5,
            )
        self._starting[workspace_id] = self._starting.get(workspace_id, 0) + 1
        self._starting_by_user[user_id] = self._starting_by_user.get(user_id, 0) + 1
        try:
            sandbox = await self._sandboxes.get(workspace_id, user_id)
            terminal_id = uuid.uuid4().hex
            process = await sandbox.exec(
                ExecRequest(
                    argv=SHELL,
                    env=terminal_env(),
                    group=f"term-{terminal_id[:16]}",
                    cwd="/app",
                    pty=True,
                    rows=rows,
                    cols=cols,
                )
            )
        finally:
            self._starting[workspace_id] -= 1
            self._starting_by_user[user_id] -= 1
            if not self._starting_by_user[user_id]:
                del self._starting_by_user[user_id]
        terminal = Terminal(
            terminal_id=terminal_id,
            workspace_id=workspace_id,
            owner_id=user_id,
            sandbox=sandbox,
            process=process,
            limits=self._limits,
            command_log=self.command_log,
            on_closed=self._forget,
            rows=rows,
            cols=cols,
        )
        self._terminals.setdefault(workspace_id, {})[terminal_id] = terminal
        terminal.start()
        return terminal

    def list(self, workspace_id: str) -> list[Terminal]:
        """The workspace's terminals, oldest first (exited ones until they are culled)."""
        return sorted(self._terminals.get(workspace_id, {}).values(), key=lambda t: t.created_at)

    def count_for(self, user_id: str) -> int:
        """Terminals `user_id` has open (not exited) over all their workspaces."""
        return sum(
            1
            for by_id in self._terminals.values()
            for t in by_id.values()
            if t.owner_id == user_id and not t.exited
        )

    def all(self) -> tuple[Terminal, ...]:
        """Every terminal, exited ones until they are culled (for the metrics, the admin view)."""
        return tuple(t for by_id in self._terminals.values() for t in by_id.values())

    def get(self, workspace_id: str, terminal_id: str) -> Terminal:
        terminal = self._terminals.get(workspace_id, {}).get(terminal_id)
        if terminal is None:
            raise NotFound("There is no such terminal.")
        return terminal

    async def delete(self, workspace_id: str, terminal_id: str) -> None:
        await self.get(workspace_id, terminal_id).terminate()

    async def delete_workspace(self, workspace_id: str) -> None:
        """Close every terminal of a workspace (when the workspace is deleted)."""
        for terminal in list(self._terminals.get(workspace_id, {}).values()):
            await terminal.terminate()

    def _forget(self, terminal: Terminal) -> None:
        mine = self._terminals.get(terminal.workspace_id, {})
        if mine.get(terminal.id) is terminal:
            del mine[terminal.id]
        if not mine and not self._starting.get(terminal.workspace_id):
            self._terminals.pop(terminal.workspace_id, None)
            self._starting.pop(terminal.workspace_id, None)

    def _forget_one_exited(self, mine: dict[str, Terminal]) -> None:
        """Make room: drop the oldest exited terminal nobody is looking at."""
        for terminal in sorted(mine.values(), key=lambda t: t.created_at):
            if terminal.exited and not terminal.clients:
                terminal.discard()
                mine.pop(terminal.id, None)
                return
