"""The check queue: every submission's automated checks, run in order, a few at a time.

Contract:
- Persistent: the queue is the `checks` table. A submission's row is made
  `pending` in the same transaction as the submission (`submissions.submit`);
  `wake()` tells the queue. At start-up, checks left `running` by a server
  that stopped mid-check go back to `pending`, and every pending one runs.
- In order (`checks.id`, the order of submission), at most
  `CHECKS_CONCURRENCY` at once: a class submitting at the deadline waits in
  line instead of taking the machine from everyone else.
- A check is started at most `CHECKS_MAX_ATTEMPTS` times in all (a server
  stop, a sandbox that could not start); after that it is `error` with a
  sentence. A submission failing its tests is a normal `done` result.
- Each run calls the grader (`sandpit.grading.runner.grade`): a fresh
  sandbox, never the student's, with the submission's files copied from the
  blob store into a private folder of the data directory, removed after.
- Progress: `running`, and for a pending check its place in the line
  (`views.queue_position`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import shutil
import uuid
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from anyio import to_thread
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from sandpit.config import Settings
from sandpit.db.models import Assignment, Check, Submission
from sandpit.grading.results import CheckResult, Visibility
from sandpit.history.service import HistoryService
from sandpit.review import assignments, submissions
from sandpit.review.assignments import TEST, VISIBLE_TEST
from sandpit.sandbox.base import SandboxBackend
from sandpit.sandbox.limits import Limits
from sandpit.workspaces.paths import validate_path

log = logging.getLogger(__name__)

_FALLBACK_POLL_S = 5.0  # a missed wake-up is noticed within this long
_RETRY_PAUSE_S = 2.0  # before a failed start is tried again (times the attempt)


class Grader(Protocol):
    """`sandpit.grading.runner.grade`'s signature (the seam the queue calls through)."""

    def __call__(
        self,
        backend: SandboxBackend,
        *,
        submission_dir: Path,
        hidden_tests: Mapping[str, str],
        visible_tests: Mapping[str, str],
        limits: Limits,
        timeout_s: float,
        work_dir: Path,
        sandbox_id: str,
        owner: str,
        hidden_visibility: Visibility = ...,
    ) -> Awaitable[CheckResult]: ...


class CheckQueue:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[Any],
        history: HistoryService,
        backend: SandboxBackend,
        grade: Grader,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.history = history
        self.backend = backend
        self.grade = grade
        self.root = settings.data_dir / "checks"
        self._wake = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: dict[int, asyncio.Task[None]] = {}
        # The most checks that ran at once (for the tests and the benchmark).
        self.peak = 0

    def open(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="check-queue")

    def wake(self) -> None:
        """A check was queued: look for work now."""
        self._wake.set()

    @property
    def running(self) -> int:
        return len(self._running)

    async def close(self) -> None:
        """Stop taking checks and cancel the running ones: they stay `running` in the
        database and start again (as `pending`) when the server next starts."""
        tasks = [t for t in (self._dispatcher, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _dispatch(self) -> None:
        await self._resume()
        while True:
            self._wake.clear()
            try:
                await self._start_free()
            except Exception:  # the database hiccuped: try again at the next wake-up
                log.exception("the check queue could not take checks")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _FALLBACK_POLL_S)

    async def _resume(self) -> None:
        """Checks a stopped server left running are pending again."""
        async with self.sessions() as db:
            resumed = await db.execute(
                update(Check).where(Check.status == "running").values(status="pending")
            )
            await db.commit()
        if resumed.rowcount:
            log.info("resuming %d checks interrupted by a restart", resumed.rowcount)
        await to_thread.run_sync(shutil.rmtree, self.root, True)

    async def _start_free(self) -> None:
        free = self.settings.checks_concurrency - len(self._running)
        if free <= 0:
            return
        now = datetime.now(UTC)
        async with self.sessions() as db:
            found = list(
                await db.scalars(
                    select(Check)
                    .where(Check.status == "pending", Check.id.not_in(list(self._running)))
                    .order_by(Check.id)
                    .limit(free)
                )
            )
            for check in found:
                check.attempts += 1
                if check.attempts > self.settings.checks_max_attempts:
                    check.status, check.finished_at = "error", now
                    check.message = "The checks could not run; a reviewer will look at it."
                    continue
                check.status, check.started_at = "running", now
            await db.commit()
            started = [(c.id, c.submission_id, c.attempts) for c in found if c.status == "running"]
        for check_id, submission_id, attempt in started:
            task = asyncio.create_task(
                self._run(check_id, submission_id, attempt), name=f"check-{check_id}"
            )
            self._running[check_id] = task
            task.add_done_callback(functools.partial(self._finished, check_id))
        self.peak = max(self.peak, len(self._running))

    def _finished(self, check_id: int, _: asyncio.Task[None]) -> None:
        self._running.pop(check_id, None)
        self._wake.set()

    async def _run(self, check_id: int, submission_id: str, attempt: int) -> None:
        folder = self.root / str(check_id)
        try:
            result = await self._grade(folder, submission_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("check %d (attempt %d) failed to run", check_id, attempt)
            await asyncio.sleep(_RETRY_PAUSE_S * attempt)
            await self._save(check_id, "pending", None, f"Could not run yet: {exc}")
            return
        finally:
            await to_thread.run_sync(shutil.rmtree, folder, True)
        data = result.to_json()
        status = "error" if result.status == "error" else "done"
        await self._save(check_id, status, json.dumps(data), data.get("message"))

    async def _grade(self, folder: Path, submission_id: str) -> CheckResult:
        async with self.sessions() as db:
            submission = await db.get(Submission, submission_id)
            if submission is None:  # deleted meanwhile (its check row went with it)
                raise LookupError("the submission is gone")
            tests: dict[str, dict[str, str]] = {TEST: {}, VISIBLE_TEST: {}}
            hidden_visibility: Visibility = "hidden"
            assignment = (
                await db.get(Assignment, submission.assignment_id)
                if submission.assignment_id
                else None
            )
            if assignment is not None:
                tests = await assignments.files(db, assignment.id, TEST, VISIBLE_TEST)
                hidden_visibility = cast(Visibility, assignment.hidden_visibility)
            files = await submissions.contents(db, self.history, submission.id)
            owner = submission.user_id
        target, work = folder / "submission", folder / "work"
        await to_thread.run_sync(_write_tree, target, files)
        return await self.grade(
            self.backend,
            submission_dir=target,
            hidden_tests=tests[TEST],
            visible_tests=tests[VISIBLE_TEST],
            limits=self.settings.limits,
            timeout_s=float(self.settings.checks_timeout_s),
            work_dir=work,
            sandbox_id=uuid.uuid4().hex,
            owner=owner,
            hidden_visibility=hidden_visibility,
        )

    async def _save(self, check_id: int, status: str, result: str | None, message: Any) -> None:
        async with self.sessions() as db:
            values: dict[str, Any] = {
                "status": status,
                "result": result,
                "message": None if message is None else str(message)[:500],
            }
            if status != "pending":
                values["finished_at"] = datetime.now(UTC)
            await db.execute(update(Check).where(Check.id == check_id).values(**values))
            await db.commit()


def _write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """Write `files` under `root`, a new private folder in a new folder of the queue's
    (paths are checked again: they came from a workspace listing, but this is
    host-side code)."""
    # Search-only for others, as the workspaces' folder: the grader's sandbox
    # binds its work folder (beside `root`) from below these, by descriptor.
    for folder in (root.parent.parent, root.parent):
        folder.mkdir(mode=0o711, exist_ok=True)
        os.chmod(folder, 0o711)  # noqa: S103 - search only, as said
    root.mkdir(mode=0o700)
    for path, data in files.items():
        parts = validate_path(path)
        target = root.joinpath(*parts)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(data)
