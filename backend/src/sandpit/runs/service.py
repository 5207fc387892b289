"""Runs: start, follow, stop and record executions of code in a workspace's sandbox.

A run is recorded first (`running`), executed in a background task, and
recorded again when it ends. `?wait=true` awaits that second record; the
task goes on a moment longer, to remove the run's cgroup leaf once the
kernel has finished its exits (every process of it is dead or exiting by
then). While it
runs, its `LiveRun` holds the output so far (for followers, `follow()`) and
its input (`send_input()`); it is dropped only after the end is recorded,
so a follower always finds either the live run or the finished record.
Images (plots) are kept in the data directory, outside any workspace, under
`runs/<workspace>/<run>/<index>.png`, so no path a user controls is ever
involved; they are written there as they come (`sandpit.runs.plots`), so a
run's plots never pile up in the server's memory, and removed with the
workspace. After each run is recorded, the workspace's old runs are pruned
(`sandpit.runs.retention`); a running run never is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio import to_thread
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from sandpit.config import Settings
from sandpit.db.models import Run, User, Workspace
from sandpit.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
)
from sandpit.runs import record, transcript
from sandpit.runs.executor import RunOutcome, RunRequest, execute
from sandpit.runs.live import MAX_FOLLOWERS, InputState, LiveRun, Started, follow
from sandpit.runs.output import Image, Text
from sandpit.runs.view import RunView, run_view
from sandpit.sandbox.base import SandboxError
from sandpit.sandbox.environment import run_env
from sandpit.sandbox.manager import SandboxManager
from sandpit.security.ratelimit import RateLimiter, retry_after_seconds
from sandpit.workspaces.paths import join_display, validate_path
from sandpit.workspaces.store import runs_dir, workspace_fs

log = logging.getLogger(__name__)

MAX_CODE_BYTES = 1024 * 1024
MAX_STDIN_BYTES = 1024 * 1024
# A stopped run's executor kills it and drains its output within seconds;
# past this it is cancelled outright.
STOP_GRACE_S = 15


@dataclass
class _Ending:
    """A run not yet recorded as ended: `done` is set when it is, with `recorded` the run
    as written then (None if its workspace went meanwhile)."""

    start: dict[str, Any]
    done: asyncio.Event = field(default_factory=asyncio.Event)
    recorded: Run | None = None


@dataclass(frozen=True)
class Ended:
    """A follower's last event: the run as recorded (finished, unless it was lost)."""

    view: RunView


RunEvent = Started | Text | Image | InputState | Ended


class RunService:
    def __init__(
        self,
        settings: Settings,
        manager: SandboxManager,
        sessions: async_sessionmaker[Any],
        limiter: RateLimiter,
        on_finished: Callable[[str, int], None] = lambda status, duration_ms: None,
    ) -> None:
        self.settings = settings
        # Hears of every recorded end: (status, duration in ms), for the metrics.
        self._on_finished = on_finished
        self.manager = manager
        self.sessions = sessions
        self.limiter = limiter
        self.images_root = settings.data_dir / "runs"
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # Runs not yet recorded as ended.
        self._open: dict[str, _Ending] = {}
        self._live: dict[str, LiveRun] = {}
        self._stopped: set[str] = set()
        self._per_workspace: dict[str, int] = {}
        self._workspace_of: dict[str, str] = {}
        self._per_user: dict[str, int] = {}

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
        interactive: bool = False,
    ) -> Run:
        """Record and start a run. Raises `BadRequest`, `NotFound`, `Conflict` (the
        path is not a file), `PayloadTooLarge`, `RateLimited` for requests that cannot
        run; never for what the program does.

        `stdin` is written first; then the program reads EOF, unless the run
        is `interactive`: its input stays open for `send_input()`."""
        if (path is None) == (code is None):
            raise BadRequest("Give either a 'path' to a file or 'code' to run, not both.")
        source_path = None
        if path is not None:
            source_path = join_display(validate_path(path))
            entry = await to_thread.run_sync(workspace_fs(self.settings, workspace.id).stat, path)
            if entry.kind != "file":
                # A well-formed request the workspace's state refuses.
                raise Conflict(f"'{source_path}' is not a file.")
        if code is not None and len(code.encode()) > MAX_CODE_BYTES:
            raise PayloadTooLarge("The code is larger than the 1 MiB limit.")
        if len(stdin.encode()) > MAX_STDIN_BYTES:
            raise PayloadTooLarge("The input is larger than the 1 MiB limit.")
        # A run starts its sandbox in the background: refuse here, with a
        # status a client can act on and before the run counts against the
        # rate, what that start would be refused.
        self.manager.check_admission(workspace.id, user.id)
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
        if self._per_user.get(user.id, 0) >= self.settings.concurrent_runs_per_user:
            raise RateLimited(
                f"You already have {self.settings.concurrent_runs_per_user} runs running, the "
                "most one user may have at once; wait for one to finish or stop it.",
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
            env=run_env(self.settings.sandbox_cpus),
            warm=tuple(self.settings.warm_preload) if self.settings.warm_interpreter else None,
        )
        self._per_workspace[workspace.id] = self._per_workspace.get(workspace.id, 0) + 1
        self._per_user[user.id] = self._per_user.get(user.id, 0) + 1
        live = LiveRun(
            run.id,
            request.output_bytes,
            request.stdin,
            interactive=interactive,
            plots_dir=self._plots_dir(workspace.id, run.id),
        )
        self._live[run.id] = live
        self._workspace_of[run.id] = workspace.id
        self._open[run.id] = _Ending(record.start_values(run))
        task = asyncio.get_running_loop().create_task(
            self._execute(run.id, workspace.id, user.id, request, live)
        )
        self._tasks[run.id] = task
        return run

    def running_count(self) -> int:
        """Runs started and not yet recorded as ended."""
        return len(self._open)

    def running_in(self, workspace_id: str) -> int:
        """Runs running in the workspace now."""
        return self._per_workspace.get(workspace_id, 0)

    async def wait(self, run_id: str) -> Run | None:
        """Until the run's end is recorded (at once if it is).

        Returns the run as then recorded when this call waited for it (a `Run`
        in no session, as reading it back would give); None when it was
        recorded before the call or its workspace went meanwhile."""
        ending = self._open.get(run_id)
        if ending is None:
            return None
        await ending.done.wait()
        return ending.recorded

    async def get_owned(self, db: AsyncSession, user: User, run_id: str) -> Run:
        # One SELECT, fresh even when this session holds the run already (the
        # run's end is written by another session).
        run = await db.get(Run, run_id, populate_existing=True)
        if run is None or run.user_id != user.id:
            raise NotFound("There is no such run.")
        return run

    async def list_for(
        self, db: AsyncSession, workspace: Workspace, *, limit: int = 20, before: str | None = None
    ) -> list[Run]:
        """The workspace's runs, newest first: `limit` of them, older than run `before`.

        `before` is a run id of the previous page; an unknown one is `NotFound`.
        The runs come without their output columns (deferred): summaries only."""
        # A list never loads outputs (up to 1 MiB each): only the summary's columns.
        query = (
            select(Run)
            .options(defer(Run.stdout), defer(Run.stderr), defer(Run.segments), defer(Run.typed))
            .where(Run.workspace_id == workspace.id)
        )
        if before is not None:
            cursor = (
                await db.execute(
                    select(Run.created_at).where(Run.id == before, Run.workspace_id == workspace.id)
                )
            ).first()
            if cursor is None:
                # Like every other run id that names no run of the caller's.
                raise NotFound("There is no such run ('before') in this workspace.")
            query = query.where(
                or_(
                    Run.created_at < cursor.created_at,
                    and_(Run.created_at == cursor.created_at, Run.id < before),
                )
            )
        rows = await db.scalars(query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit))
        return list(rows)

    async def stop_workspace(self, workspace_id: str) -> None:
        """Stop every run of the workspace and wait until each is recorded (before
        the workspace is deleted, so no run writes a plot after its files went)."""
        for run_id, owner in list(self._workspace_of.items()):
            if owner == workspace_id:
                await self.stop(run_id)

    async def stop(self, run_id: str) -> None:
        """Stop a running run (all its processes); a finished run is left as it is.

        Returns once the stop is recorded. A program already started is
        killed by its executor, which then reads what is left in its pipes,
        so the run keeps everything it printed; before that, the start is
        simply cancelled.
        """
        task = self._tasks.get(run_id)
        if task is None:
            return
        if run_id not in self._open:
            # Recorded already: only the removal of its leaf is left (`_execute`).
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
            return
        self._stopped.add(run_id)
        live = self._live.get(run_id)
        if live is not None and live.executing:
            live.stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_S)
                return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    def image(self, run: Run, index: int) -> Path | bytes:
        """The run's `index`-th plot: its file, or its bytes while the run is running."""
        live = self._live.get(run.id)
        if live is not None:
            if 0 <= index < len(live.output.images):
                return live.output.images.get(index)
            raise NotFound("There is no such image.")
        if not 0 <= index < run.images:
            raise NotFound("There is no such image.")
        path = self._plots_dir(run.workspace_id, run.id) / f"{index}.png"
        # Runs recorded before plots were kept per workspace: `runs/<run>/`.
        legacy = self.images_root / run.id / f"{index}.png"
        return legacy if not path.exists() and legacy.exists() else path

    def _plots_dir(self, workspace_id: str, run_id: str) -> Path:
        return runs_dir(self.settings, workspace_id) / run_id

    def view(self, run: Run) -> RunView:
        """`run` as clients are shown it: with its output so far while it runs."""
        return run_view(run, self._live.get(run.id))

    def send_input(self, run: Run, text: str, *, eof: bool) -> None:
        """Queue `text` for the running program's stdin, then EOF if `eof`.

        Raises `Conflict` when the run takes no input (ended, not interactive,
        or its input closed) and `PayloadTooLarge` past the size limits
        (`LiveRun.take_input`). Returns at once: the program reads it when it reads.
        """
        live = self._live.get(run.id)
        if live is None or live.ended:
            raise Conflict("This run has ended; it takes no more input.")
        live.take_input(text, eof=eof)

    @contextlib.contextmanager
    def following(self, run: Run) -> Iterator[AsyncGenerator[RunEvent]]:
        """A follower of `run` (see `events`), counted while the block lasts.

        Raises `RateLimited` when the run has `MAX_FOLLOWERS` already.
        """
        live = self._live.get(run.id)
        if live is not None and live.followers >= MAX_FOLLOWERS:
            raise RateLimited(
                f"This run is followed in {MAX_FOLLOWERS} places already; close one of them.", 5
            )
        if live is not None:
            live.followers += 1
        try:
            yield self._events(run, live)
        finally:
            if live is not None:
                live.followers -= 1

    async def _events(self, run: Run, live: LiveRun | None) -> AsyncGenerator[RunEvent]:
        """The output so far, then as it comes, then the run as recorded at its end."""
        if live is None:
            # Finished before the follower came (perhaps just now): replay the record.
            view = self.view(await self._recorded(run))
            yield Started(input_open=False)
            output = view.output
            for piece in transcript.replay(output.texts, output.images, output.segments):
                yield piece
            yield Ended(view)
            return
        async for item in follow(live):
            yield item
        yield Ended(self.view(await self._recorded(run)))

    async def _recorded(self, run: Run) -> Run:
        """The run as recorded now (as it was, if its workspace was deleted meanwhile)."""
        async with self.sessions() as db:
            recorded = await db.get(Run, run.id)
        return recorded if recorded is not None else run

    async def close(self) -> None:
        for run_id in list(self._tasks):
            await self.stop(run_id)

    async def _execute(
        self, run_id: str, workspace_id: str, user_id: str, request: RunRequest, live: LiveRun
    ) -> None:
        removals: list[asyncio.Future[None]] = []
        try:
            await self._execute_and_record(run_id, workspace_id, user_id, request, live, removals)
            # After the answer: the run's leaf, whose processes were killed
            # (or were exiting) when it ended, removed once the kernel is done.
            await asyncio.gather(*removals)
        finally:
            self._tasks.pop(run_id, None)

    async def _execute_and_record(
        self,
        run_id: str,
        workspace_id: str,
        user_id: str,
        request: RunRequest,
        live: LiveRun,
        removals: list[asyncio.Future[None]],
    ) -> None:
        try:
            try:
                outcome = await self._outcome(
                    run_id, workspace_id, user_id, request, live, removals
                )
            except asyncio.CancelledError:
                # Stopped before the process started (e.g. while the sandbox was starting).
                if run_id not in self._stopped:
                    raise
                outcome = record.stopped(live)
            await self._record(run_id, workspace_id, outcome)
        except Exception:
            log.exception("run %s failed", run_id)
            with contextlib.suppress(Exception):
                await self._record(
                    run_id,
                    workspace_id,
                    record.failure("The run failed on the server; it was logged."),
                )
        finally:
            self._stopped.discard(run_id)
            self._per_workspace[workspace_id] -= 1
            self._workspace_of.pop(run_id, None)
            self._per_user[user_id] -= 1
            if not self._per_user[user_id]:
                del self._per_user[user_id]
            # Only now, with the end recorded: a follower finds the live run
            # or the finished record, never neither.
            live.finish()
            self._live.pop(run_id, None)
            self._open.pop(run_id).done.set()

    async def _outcome(
        self,
        run_id: str,
        workspace_id: str,
        user_id: str,
        request: RunRequest,
        live: LiveRun,
        removals: list[asyncio.Future[None]],
    ) -> RunOutcome:
        try:
            sandbox = await self.manager.get(workspace_id, user_id)
        except (SandboxError, RateLimited, ServiceUnavailable) as exc:
            # A start refused after the check in `start` (another start took
            # the place meanwhile): the run ends saying why.
            return record.failure(exc.detail)
        with self.manager.busy(workspace_id):
            live.executing = True
            task = asyncio.ensure_future(
                execute(
                    sandbox,
                    f"run-{run_id[:16]}",
                    request,
                    live.output,
                    live.input,
                    live.stop,
                    removals,
                )
            )
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                # Stopped: the executor kills the run's whole group on the way out.
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                if run_id not in self._stopped:
                    raise
                return record.stopped(live)
            except SandboxError as exc:
                return record.failure(exc.detail)

    async def _record(self, run_id: str, workspace_id: str, outcome: RunOutcome) -> None:
        ending = self._open[run_id]
        recorded, pruned_plots = await record.write(
            self.sessions,
            ending.start,
            record.finished_values(outcome, warm=self.settings.warm_interpreter),
            keep=self.settings.runs_kept_per_workspace,
            max_bytes=self.settings.run_storage_bytes,
        )
        if recorded is None:  # the workspace was deleted meanwhile
            await to_thread.run_sync(shutil.rmtree, self._plots_dir(workspace_id, run_id), True)
            return
        ending.recorded = recorded
        # Only a run that showed a plot has a folder (`PlotStore`); one recorded
        # before plots were kept per workspace has it in `runs/<run>/`.
        doomed = [self._plots_dir(workspace_id, old) for old in pruned_plots]
        doomed += [self.images_root / old for old in pruned_plots]
        if doomed:
            await to_thread.run_sync(_remove_all, doomed)
        self._on_finished(outcome.status, outcome.duration_ms)


def _remove_all(folders: list[Path]) -> None:
    """Remove `folders` and everything in them; those already gone are skipped."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
