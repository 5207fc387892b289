"""An asyncio SQLite connection that crosses to its thread once per statement.

Why: SQLite calls block, so an asyncio server runs them on another thread, and
each crossing ("a hop": queue to the thread, wake the event loop on the way
back) costs ~0.1 ms, far more than the statement itself (a primary-key SELECT
takes ~4 µs in sqlite3). aiosqlite, under SQLAlchemy's adapter, hops for the
cursor, the execute, the fetch and the close of every statement, and for every
commit and rollback even with no transaction open: ~4 hops a SELECT, ~31 on a
warm run's request. This connection does the same work in the fewest hops.

The contract, met for SQLAlchemy's `sqlite+aiosqlite` dialect (its adapter in
`sqlalchemy/connectors/asyncio.py` and `dialects/sqlite/aiosqlite.py`), which
the engine gives this connection through `async_creator`:

- One worker thread per connection, which makes the `sqlite3` connection and
  runs everything on it, one job at a time in order; results come back with
  `loop.call_soon_threadsafe`. The thread is a daemon and ends on `close()` or
  `stop()` (joined by `close()`), so a server's shutdown never waits on it.
- `cursor()` and its `__aenter__` cost no hop. A cursor's `execute` or
  `executemany` is ONE hop: the statement runs and, when it has a result
  (`description`), all its rows are fetched in the same hop. `fetchone`,
  `fetchmany`, `fetchall` and `close` then read what was fetched: no hop. (So a
  "server-side" cursor holds its rows in memory too; nothing here streams.)
- `commit` and `rollback` are one hop, and none when the connection is idle
  and outside a transaction (`sqlite3.Connection.in_transaction`), which is
  what a read-only session's commit and the pool's rollback on return mostly
  are. `sqlite3` itself does nothing in that case, so skipping it changes
  nothing.
- Errors are `sqlite3`'s own exceptions, raised in the awaiting task, so
  SQLAlchemy maps them as before. Using a closed connection raises
  `ValueError("Connection closed")`, aiosqlite's words, which the dialect
  treats as a disconnect.
- A task cancelled while its statement runs leaves the connection consistent:
  the statement completes on the thread and its result is dropped; the jobs
  queued after it (SQLAlchemy's rollback or close) run after it.
- The dialect also reaches into three private parts of aiosqlite's
  connection, provided here with the same meaning: `_connection` (the sqlite3
  connection, falsy once closed), `_conn` (the same, `ValueError` if closed)
  and `_tx`, the thread's queue of `(future, function)` jobs, on which it sets
  the isolation level.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from functools import partial
from queue import SimpleQueue
from threading import Thread
from typing import Any

_Job = tuple["asyncio.Future[Any] | None", Callable[[], Any]]

_STOP = object()  # what the last job returns: the worker then ends


def _settle(future: asyncio.Future[Any], ok: bool, outcome: Any) -> None:
    if future.done():  # the awaiting task was cancelled: drop the outcome
        return
    if ok:
        future.set_result(outcome)
    else:
        future.set_exception(outcome)


def _work(jobs: SimpleQueue[_Job]) -> None:
    """The worker thread: run each job, hand its outcome to its future's loop."""
    while True:
        future, function = jobs.get()
        try:
            outcome, ok = function(), True
        except BaseException as error:  # handed to the awaiting task, whatever it is
            outcome, ok = error, False
        if future is not None:
            # RuntimeError: the loop is closed, so nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                future.get_loop().call_soon_threadsafe(_settle, future, ok, outcome)
        if outcome is _STOP:
            return


class Connection:
    """One SQLite connection on its own thread; see the module's contract."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        self._connector = connector
        self._connection: sqlite3.Connection | None = None
        # The sqlite3 connection as the thread made it, for the stop job to
        # close even when the task that opened it was cancelled meanwhile.
        self._opened: list[sqlite3.Connection] = []
        self._tx: SimpleQueue[_Job] = SimpleQueue()
        self._thread = Thread(target=_work, args=(self._tx,), name="sandpit-sqlite", daemon=True)
        # Jobs submitted, and jobs the thread has finished: while they differ,
        # the thread may be changing the transaction state, so it is not read.
        # (Not a count of outcomes back on the loop: a cancelled task's
        # future is done before its job has even started.)
        self._submitted = 0
        self._finished = _Count()
        self._stopped = False

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    async def _submit(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Return `function(sqlite3_connection, *args, **kwargs)`, run on the thread:
        the one hop."""
        connection = self._connection
        if connection is None:
            raise ValueError("Connection closed")
        return await self._hop(partial(function, connection, *args, **kwargs))

    async def _hop(self, function: Callable[[], Any]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._submitted += 1
        self._tx.put_nowait((future, partial(_counted, self._finished, function)))
        return await future

    async def open(self) -> Connection:
        """Start the thread and make the sqlite3 connection on it."""
        self._thread.start()
        try:
            self._connection = await self._hop(partial(_open, self._connector, self._opened))
        except BaseException:
            self.stop()
            raise
        return self

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def commit(self) -> None:
        if not self._idle_outside_transaction():
            await self._submit(sqlite3.Connection.commit)

    async def rollback(self) -> None:
        if not self._idle_outside_transaction():
            await self._submit(sqlite3.Connection.rollback)

    def _idle_outside_transaction(self) -> bool:
        connection = self._connection
        return (
            self._submitted == self._finished.value
            and connection is not None
            and not connection.in_transaction
        )

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        await self._submit(sqlite3.Connection.create_function, *args, **kwargs)

    async def close(self) -> None:
        """Close the sqlite3 connection (after any queued job) and end the thread."""
        if self._stopped:
            return
        future = self.stop()
        if future is not None:
            await future
        # The worker has handed back its last outcome and only has to return.
        self._thread.join()

    def stop(self) -> asyncio.Future[Any] | None:
        """Close and end the thread without waiting (SQLAlchemy's terminate, and
        clean-up without a running loop); the future, if any, says when it is done."""
        if self._stopped:  # one stop job is enough
            return None
        self._stopped = True
        self._connection = None
        opened = self._opened

        def close_and_stop() -> object:
            for connection in opened:
                connection.close()
            return _STOP

        try:
            future: asyncio.Future[Any] | None = asyncio.get_running_loop().create_future()
        except RuntimeError:
            future = None
        self._tx.put_nowait((future, close_and_stop))
        return future

    def __del__(self) -> None:
        # Dropped without a close (a connection garbage-collected by the pool):
        # end the thread, which holds only the queue, not this object.
        if not self._stopped:
            self.stop()


def _open(
    connector: Callable[[], sqlite3.Connection], opened: list[sqlite3.Connection]
) -> sqlite3.Connection:
    connection = connector()
    opened.append(connection)
    return connection


class _Count:
    """A count the worker thread raises and the loop reads (one writer)."""

    value = 0


def _counted(finished: _Count, function: Callable[[], Any]) -> Any:
    try:
        return function()
    finally:
        finished.value += 1


class Cursor:
    """A statement's outcome: filled by `execute` in one hop, then read locally."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        self._take(await self._connection._submit(_execute, sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        self._take(await self._connection._submit(_executemany, sql, parameters))
        return self

    def _take(self, outcome: _Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()

    async def setinputsizes(self, *_: Any) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while self._rows:
            yield self._rows.popleft()


_Outcome = tuple[Any, int, "int | None", Sequence[Any]]


def _execute(conn: sqlite3.Connection, sql: str, parameters: Any) -> _Outcome:
    """On the thread: run one statement and fetch its rows (no second hop to fetch)."""
    return _outcome(conn.execute(sql, parameters))


def _executemany(conn: sqlite3.Connection, sql: str, parameters: Iterable[Any]) -> _Outcome:
    return _outcome(conn.executemany(sql, parameters))


def _outcome(cursor: sqlite3.Cursor) -> _Outcome:
    """What a statement left on `cursor`, its rows fetched; the cursor is closed."""
    try:
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


async def connect(database: str, **kwargs: Any) -> Connection:
    """Open `database` with `sqlite3.connect(database, **kwargs)` on a new thread."""
    return await Connection(partial(sqlite3.connect, database, **kwargs)).open()
