"""Runs: start, follow, stop and record executions of code in a workspace's sandbox.

A run is recorded first (`running`), executed in a background task, and
recorded again when it ends. `?wait=true` simply awaits that task. Images
(plots) are kept in the data directory, outside any workspace, named by run
id and index, so no path a user controls is ever involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandpit.config import Settings
from sandpit.db.models import Run, User, Workspace
from sandpit.errors import BadRequest, NotFound, PayloadTooLarge, RateLimited
from sandpit.runs.executor import RunOutcome, RunRequest, execute
from sandpit.sandbox.base import SandboxError
from sandpit.sandbox.environment import run_env
from sandpit.sandbox.manager import SandboxManager
from sandpit.security.ratelimit import RateLimiter, retry_after_seconds
from sandpit.services.workspaces import workspace_fs
from sandpit.workspaces.paths import join_display, validate_path

log = logging.getLogger(__name__)

MAX_CODE_BYTES = 1024 * 1024
MAX_STDIN_BYTES = 1024 * 1024


class RunService:
    def __init__(
        self,
        settings: Settings,
        manager: SandboxManager,
        sessions: async_sessionmaker[Any],
        limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        self.manager = manager
        self.sessions = sessions
        self.limiter = limiter
        self.images_root = settings.data_dir / "runs"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopped: set[str] = set()
        self._per_workspace: dict[str, int] = {}

    async def start(
        self,
        db: AsyncSession,
        user: User,
        workspace: Workspace,
        *,
        path: str | None,
        code: str | None,
        stdin: str,
        timeout_s: float | None,
    ) -> Run:
        """Record and start a run. Raises `BadRequest`, `NotFound`, `PayloadTooLarge`,
        `RateLimited` for requests that cannot run; never for what the program does."""
        if (path is None) == (code is None):
            raise BadRequest("Give either a 'path' to a file or 'code' to run, not both.")
        source_path = None
        if path is not None:
            source_path = join_display(validate_path(path))
            entry = await to_thread.run_sync(workspace_fs(self.settings, workspace).stat, path)
            if entry.kind != "file":
                raise BadRequest(f"'{source_path}' is not a file.")
        if code is not None and len(code.encode()) > MAX_CODE_BYTES:
            raise PayloadTooLarge("The code is larger than the 1 MiB limit.")
        if len(stdin.encode()) > MAX_STDIN_BYTES:
            raise PayloadTooLarge("The input is larger than the 1 MiB limit.")
        wait = self.limiter.hit(f"runs:{user.id}", self.settings.runs_per_minute, 60)
        if wait:
            seconds = retry_after_seconds(wait)
            raise RateLimited(
                f"Too many runs in a minute; try again in {seconds} seconds.", seconds
            )
        if self._per_workspace.get(workspace.id, 0) >= self.settings.concurrent_runs_per_workspace:
            raise RateLimited(
                f"{self.settings.concurrent_runs_per_workspace} runs are already running in this "
                "workspace; wait for one to finish or stop it.",
                2,
            )
        limit = float(self.settings.run_timeout_max_s)
        timeout = min(timeout_s if timeout_s is not None else self.settings.run_timeout_s, limit)
        run = Run(
            id=uuid.uuid4().hex,
            workspace_id=workspace.id,
            user_id=user.id,
            path=source_path,
            status="running",
            stdout="",
            stderr="",
            truncated=False,
            images=0,
        )
        db.add(run)
        await db.commit()
        request = RunRequest(
            path=source_path,
            code=code,
            stdin=stdin.encode(),
            timeout_s=timeout,
            output_bytes=self.settings.run_output_bytes,
            env=run_env(),
        )
        self._per_workspace[workspace.id] = self._per_workspace.get(workspace.id, 0) + 1
        task = asyncio.get_running_loop().create_task(self._execute(run.id, workspace.id, request))
        self._tasks[run.id] = task
        return run

    async def wait(self, run_id: str) -> None:
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.shield(task)

    async def get_owned(self, db: AsyncSession, user: User, run_id: str) -> Run:
        run = await db.get(Run, run_id)
        if run is None or run.user_id != user.id:
            raise NotFound("There is no such run.")
        await db.refresh(run)
        return run

    async def list_for(self, db: AsyncSession, workspace: Workspace, limit: int = 50) -> list[Run]:
        rows = await db.scalars(
            select(Run)
            .where(Run.workspace_id == workspace.id)
            .order_by(Run.created_at.desc())
            .limit(limit)
        )
        return list(rows)

    async def stop(self, run_id: str) -> None:
        """Stop a running run (all its processes); a finished run is left as it is."""
        task = self._tasks.get(run_id)
        if task is None:
            return
        self._stopped.add(run_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    def image_path(self, run: Run, index: int) -> Path:
        if not 0 <= index < run.images:
            raise NotFound("There is no such image.")
        return self.images_root / run.id / f"{index}.png"

    async def close(self) -> None:
        for run_id in list(self._tasks):
            await self.stop(run_id)

    async def _execute(self, run_id: str, workspace_id: str, request: RunRequest) -> None:
        try:
            try:
                outcome = await self._outcome(run_id, workspace_id, request)
            except asyncio.CancelledError:
                # Stopped before the process started (e.g. while the sandbox was starting).
                if run_id not in self._stopped:
                    raise
                outcome = _stopped()
            await self._record(run_id, outcome)
        except Exception:
            log.exception("run %s failed", run_id)
            with contextlib.suppress(Exception):
                await self._record(run_id, _failure("The run failed on the server; it was logged."))
        finally:
            self._tasks.pop(run_id, None)
            self._stopped.discard(run_id)
            self._per_workspace[workspace_id] -= 1

    async def _outcome(self, run_id: str, workspace_id: str, request: RunRequest) -> RunOutcome:
        try:
            sandbox = await self.manager.get(workspace_id)
        except SandboxError as exc:
            return _failure(exc.detail)
        with self.manager.busy(workspace_id):
            task = asyncio.ensure_future(execute(sandbox, f"run-{run_id[:16]}", request))
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                # Stopped: the executor kills the run's whole group on the way out.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                if run_id not in self._stopped:
                    raise
                return _stopped()
            except SandboxError as exc:
                return _failure(exc.detail)

    async def _record(self, run_id: str, outcome: RunOutcome) -> None:
        if outcome.images:
            await to_thread.run_sync(self._save_images, run_id, outcome.images)
        async with self.sessions() as db:
            run = await db.get(Run, run_id)
            if run is None:  # the workspace was deleted meanwhile
                await to_thread.run_sync(shutil.rmtree, self.images_root / run_id, True)
                return
            run.status = outcome.status
            run.exit_code = outcome.exit_code
            run.stdout = outcome.stdout.decode("utf-8", "replace")
            run.stderr = outcome.stderr.decode("utf-8", "replace")
            run.truncated = outcome.truncated
            run.duration_ms = outcome.duration_ms
            run.images = len(outcome.images)
            run.message = outcome.message
            run.finished_at = datetime.now(UTC)
            await db.commit()

    def _save_images(self, run_id: str, images: list[bytes]) -> None:
        directory = self.images_root / run_id
        directory.mkdir(parents=True, exist_ok=True)
        for index, data in enumerate(images):
            (directory / f"{index}.png").write_bytes(data)


def _stopped() -> RunOutcome:
    return RunOutcome(
        status="killed",
        exit_code=None,
        stdout=b"",
        stderr=b"",
        truncated=False,
        duration_ms=0,
        message="The run was stopped.",
    )


def _failure(message: str) -> RunOutcome:
    return RunOutcome(
        status="error",
        exit_code=None,
        stdout=b"",
        stderr=b"",
        truncated=False,
        duration_ms=0,
        message=message,
    )
