"""The objects one running server shares across requests, built by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from sandpit.config import Settings
from sandpit.errors import ServiceUnavailable
from sandpit.history.restore import Restorer
from sandpit.history.service import HistoryService
from sandpit.lsp.manager import LanguageServers
from sandpit.metrics import Metrics
from sandpit.review.checks import CheckQueue
from sandpit.runs.service import RunService
from sandpit.sandbox.manager import SandboxManager
from sandpit.security.login_throttle import LoginThrottle
from sandpit.security.ratelimit import RateLimiter
from sandpit.security.refusals import RefusalLog
from sandpit.security.tokens import TokenCodec
from sandpit.terminals.manager import TerminalManager


@dataclass
class AppContext:
    """Everything a request handler may need beyond the request itself."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[Any]
    tokens: TokenCodec
    limiter: RateLimiter
    login_throttle: LoginThrottle
    # --- History and snapshots
    history: HistoryService
    restorer: Restorer
    # None where sandboxes cannot run here; `sandbox_unavailable` says why.
    sandboxes: SandboxManager | None = None
    runs: RunService | None = None
    terminals: TerminalManager | None = None  # --- Terminals
    checks: CheckQueue | None = None  # --- Submission checks (None where sandboxes cannot run)
    # --- Language servers: None where sandboxes cannot run or LSP_ENABLED is off.
    lsp: LanguageServers | None = None
    sandbox_unavailable: str | None = None
    metrics: Metrics = field(default_factory=Metrics)
    refusals: RefusalLog = field(default_factory=RefusalLog)

    def sandboxes_unavailable(self) -> ServiceUnavailable:
        """The 503 for sandbox features on a host where they cannot run, saying why."""
        return ServiceUnavailable(self.sandbox_unavailable or "Sandboxes are not available.")

    async def flush_command_log(self) -> None:
        """Write the terminals' buffered command lines, where terminals run (none otherwise)."""
        if self.terminals is not None:
            await self.terminals.command_log.flush()

    async def end_workspace(self, workspace_id: str) -> None:
        """End everything running for the workspace before its files go: its runs
        (awaited until recorded, so none writes a plot afterwards), its terminals, its
        language servers and its sandbox. Nothing to end where sandboxes cannot run."""
        if self.runs is not None:
            await self.runs.stop_workspace(workspace_id)
        if self.terminals is not None:
            await self.terminals.delete_workspace(workspace_id)
        if self.lsp is not None:
            await self.lsp.end_workspace(workspace_id)
        await self.stop_sandbox(workspace_id)

    async def stop_sandbox(self, workspace_id: str) -> None:
        """End the workspace's sandbox, if one may run here (nothing to end otherwise)."""
        if self.sandboxes is not None:
            await self.sandboxes.stop(workspace_id)
