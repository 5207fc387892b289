"""The command log: command lines users submit in terminals, recorded for administrators.

The lines come from what a client types (see `CommandLines`), never from
the sandbox, so code running there cannot write into the log. A user who
floods it (a script that sends thousands of lines) is held to a per-minute
rate; what is over the rate is counted, not stored (`skipped_before` on the
user's next recorded command). Entries wait in a bounded queue and are
written in batches, so a slow database never holds up a terminal, and the
table is pruned to its newest `max_rows` rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sandpit.db.models import CommandLogEntry, User, utcnow
from sandpit.security.ratelimit import RateLimiter

log = logging.getLogger(__name__)

MAX_QUEUED = 2000
MAX_TRACKED_USERS = 10_000
FLUSH_DELAY_S = 0.5
PRUNE_EVERY = 50  # flushes


@dataclass(frozen=True)
class _Pending:
    user_id: str
    workspace_id: str
    terminal_id: str
    command: str
    skipped_before: int
    created_at: datetime


class CommandLog:
    """Records command lines: `record()` never blocks; a background task writes them."""

    def __init__(
        self,
        sessions: async_sessionmaker[Any],
        limiter: RateLimiter,
        *,
        per_minute: int,
        max_rows: int,
    ) -> None:
        self._sessions = sessions
        self._limiter = limiter
        self._per_minute = per_minute
        self._max_rows = max_rows
        self._queue: deque[_Pending] = deque()
        self._skipped: dict[str, int] = {}
        self._wake = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._flushes = 0

    def open(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._flush_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    def record(self, user_id: str, workspace_id: str, terminal_id: str, command: str) -> None:
        """Queue one command line, unless the user is over the rate or the queue is full."""
        over_rate = self._limiter.hit(f"command-log:{user_id}", self._per_minute, 60)
        if over_rate or len(self._queue) >= MAX_QUEUED:
            if user_id in self._skipped or len(self._skipped) < MAX_TRACKED_USERS:
                self._skipped[user_id] = self._skipped.get(user_id, 0) + 1
            return
        self._queue.append(
            _Pending(
                user_id,
                workspace_id,
                terminal_id,
                command,
                self._skipped.pop(user_id, 0),
                utcnow(),
            )
        )
        self._wake.set()

    async def flush(self) -> None:
        """Write what is queued (a failed write is logged and dropped, never retried forever).

        Returns once everything queued before the call is in the database.
        """
        async with self._writing:
            await self._write()

    async def _write(self) -> None:
        if not self._queue:
            return
        batch = list(self._queue)
        self._queue.clear()
        try:
            async with self._sessions() as db:
                db.add_all(
                    CommandLogEntry(
                        user_id=p.user_id,
                        workspace_id=p.workspace_id,
                        terminal_id=p.terminal_id,
                        command=p.command,
                        skipped_before=p.skipped_before,
                        created_at=p.created_at,
                    )
                    for p in batch
                )
                await db.commit()
                self._flushes += 1
                if self._flushes % PRUNE_EVERY == 1:
                    await self._prune(db)
        except Exception:
            log.exception("could not write %d command log entries", len(batch))

    async def _prune(self, db: AsyncSession) -> None:
        newest = await db.scalar(select(func.max(CommandLogEntry.id)))
        if newest is not None and newest > self._max_rows:
            await db.execute(
                delete(CommandLogEntry).where(CommandLogEntry.id <= newest - self._max_rows)
            )
            await db.commit()

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(FLUSH_DELAY_S)  # gather a batch
            await self.flush()


async def entries(
    db: AsyncSession,
    *,
    user_id: str | None = None,
    username: str | None = None,
    workspace_id: str | None = None,
    terminal_id: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[tuple[CommandLogEntry, str | None]]:
    """Entries newest first, with the username where the user still exists.

    Pages by id: pass the last entry's id as `before` for the next page.
    """
    query = (
        select(CommandLogEntry, User.username)
        .outerjoin(User, User.id == CommandLogEntry.user_id)
        .order_by(CommandLogEntry.id.desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(CommandLogEntry.user_id == user_id)
    if username is not None:
        query = query.where(User.username == username)
    if workspace_id is not None:
        query = query.where(CommandLogEntry.workspace_id == workspace_id)
    if terminal_id is not None:
        query = query.where(CommandLogEntry.terminal_id == terminal_id)
    if before is not None:
        query = query.where(CommandLogEntry.id < before)
    rows = await db.execute(query)
    return [(entry, username) for entry, username in rows]
