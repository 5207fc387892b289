"""The one-hop SQLite driver (db/sqlite_driver.py), alone and under the engine, on real files.

Hops are counted by wrapping the driver's own `Connection._submit` (every trip to
the connection's thread after it opens goes through it), never by timing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from sandpit.db import sqlite_driver
from sandpit.db.engine import create_engine, session_factory


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the jobs sent to any connection's thread, in order."""
    sent: list[str] = []
    submit = sqlite_driver.Connection._submit

    async def counted(
        self: sqlite_driver.Connection, function: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        sent.append(function.__name__)
        return await submit(self, function, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.Connection, "_submit", counted)
    return sent


@pytest.fixture
async def connection(tmp_path: Path) -> AsyncIterator[sqlite_driver.Connection]:
    connection = await sqlite_driver.connect(str(tmp_path / "t.db"), timeout=5)
    cursor = connection.cursor()
    await cursor.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield connection
    await connection.close()


def driver_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "sandpit-sqlite"]


async def test_rows_rowcount_lastrowid_and_executemany(
    connection: sqlite_driver.Connection,
) -> None:
    cursor = connection.cursor()
    await cursor.execute("INSERT INTO t (name) VALUES (?)", ("a",))
    assert (cursor.rowcount, cursor.lastrowid, cursor.description) == (1, 1, None)
    await cursor.executemany("INSERT INTO t (name) VALUES (?)", [("b",), ("c",), ("d",)])
    assert cursor.rowcount == 3
    await cursor.execute("UPDATE t SET name = name || '!' WHERE id > ?", (1,))
    assert cursor.rowcount == 3

    await cursor.execute("SELECT id, name FROM t ORDER BY id")
    assert [column[0] for column in cursor.description] == ["id", "name"]
    assert await cursor.fetchone() == (1, "a")
    assert await cursor.fetchmany(2) == [(2, "b!"), (3, "c!")]
    assert await cursor.fetchall() == [(4, "d!")]
    assert await cursor.fetchone() is None
    await cursor.close()


async def test_a_statement_is_one_hop_and_idle_commits_and_rollbacks_are_none(
    connection: sqlite_driver.Connection, hops: list[str]
) -> None:
    async with connection.cursor() as cursor:
        await cursor.execute("SELECT count(*) FROM t")
        assert await cursor.fetchall() == [(0,)]
    assert hops == ["_execute"]
    # A SELECT opens no transaction (sqlite3's implicit BEGIN is before writes only).
    await connection.commit()
    await connection.rollback()
    assert hops == ["_execute"]

    async with connection.cursor() as cursor:
        await cursor.execute("INSERT INTO t (name) VALUES ('a')")
    assert connection.in_transaction
    await connection.commit()
    assert hops == ["_execute", "_execute", "commit"]
    assert not connection.in_transaction


async def test_commit_keeps_and_rollback_discards(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    writer = await sqlite_driver.connect(path, timeout=5)
    reader = await sqlite_driver.connect(path, timeout=5)
    try:
        cursor = writer.cursor()
        await cursor.execute("CREATE TABLE t (x INTEGER)")
        await cursor.execute("INSERT INTO t VALUES (1)")
        await writer.rollback()
        await cursor.execute("INSERT INTO t VALUES (2)")
        await writer.commit()
        seen = reader.cursor()
        await seen.execute("SELECT x FROM t")
        assert await seen.fetchall() == [(2,)]
    finally:
        await writer.close()
        await reader.close()


async def test_errors_are_sqlite3s(tmp_path: Path, connection: sqlite_driver.Connection) -> None:
    cursor = connection.cursor()
    await cursor.execute("INSERT INTO t (name) VALUES ('a')")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await cursor.execute("INSERT INTO t (name) VALUES ('a')")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await cursor.execute("SELECT * FROM nowhere")
    await connection.commit()  # the first insert's transaction is still usable

    # A writer holding the lock: another connection gives up after its busy timeout.
    impatient = await sqlite_driver.connect(str(tmp_path / "t.db"), timeout=0.05)
    try:
        await cursor.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await impatient.cursor().execute("INSERT INTO t (name) VALUES ('b')")
        await connection.rollback()
        await impatient.cursor().execute("INSERT INTO t (name) VALUES ('b')")
        await impatient.commit()
    finally:
        await impatient.close()


async def test_a_closed_connection_says_so_as_aiosqlite_did(tmp_path: Path) -> None:
    connection = await sqlite_driver.connect(str(tmp_path / "t.db"))
    cursor = connection.cursor()
    await connection.close()
    with pytest.raises(ValueError, match="Connection closed"):
        await cursor.execute("SELECT 1")
    await connection.close()  # a second close is harmless


async def test_a_database_that_cannot_open_raises_and_leaves_no_thread(tmp_path: Path) -> None:
    before = driver_threads()
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await sqlite_driver.connect(str(tmp_path / "no such folder" / "t.db"))
    for thread in set(driver_threads()) - set(before):  # told to stop, not waited for
        await asyncio.to_thread(thread.join, 10)
    assert set(driver_threads()) <= set(before)  # none of ours left


async def test_a_cancelled_statement_completes_and_the_connection_stays_consistent(
    connection: sqlite_driver.Connection,
) -> None:
    entered, release = threading.Event(), threading.Event()

    def block() -> int:
        entered.set()
        release.wait(10)
        return 1

    await connection.create_function("block", 0, block)
    cursor = connection.cursor()
    # A read held up on the thread, and a write queued behind it: both cancelled
    # (SQLAlchemy runs one statement at a time; this is the worst case).
    reading = asyncio.create_task(cursor.execute("SELECT block()"))
    writing = asyncio.create_task(connection.cursor().execute("INSERT INTO t (name) VALUES ('x')"))
    assert await asyncio.to_thread(entered.wait, 10)
    for task in (reading, writing):
        task.cancel()
    assert connection._submitted - connection._finished.value == 2  # both on the thread
    assert not connection.in_transaction  # yet: the write has not started
    # What SQLAlchemy does next: roll back. It must not be skipped as an idle
    # one (the write will open a transaction): it runs after both statements.
    rollback = asyncio.create_task(connection.rollback())
    release.set()
    await rollback
    for task in (reading, writing):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not connection.in_transaction
    await cursor.execute("SELECT count(*) FROM t")
    assert await cursor.fetchall() == [(0,)]


async def test_two_connections_write_at_once_with_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    first, second = [await sqlite_driver.connect(path, timeout=30) for _ in range(2)]
    try:
        await first.cursor().execute("PRAGMA journal_mode=WAL")
        await first.cursor().execute("CREATE TABLE t (who TEXT, n INTEGER)")

        async def write(connection: sqlite_driver.Connection, who: str) -> None:
            for n in range(50):
                await connection.cursor().execute("INSERT INTO t VALUES (?, ?)", (who, n))
                await connection.commit()

        await asyncio.gather(write(first, "first"), write(second, "second"))
        cursor = second.cursor()
        await cursor.execute("SELECT who, count(*) FROM t GROUP BY who ORDER BY who")
        assert await cursor.fetchall() == [("first", 50), ("second", 50)]
    finally:
        await first.close()
        await second.close()


async def test_the_engine_gets_a_row_in_one_hop_and_writes_in_two(
    tmp_path: Path, hops: list[str]
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'sandpit.db'}")
    sessions = session_factory(engine)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1, 10)"))
        hops.clear()
        async with sessions() as db:
            assert (await db.execute(text("SELECT x FROM t WHERE id = 1"))).scalar() == 10
        assert hops == ["_execute"]  # no hop for the pool's rollback on return

        hops.clear()
        async with sessions() as db:
            await db.execute(text("UPDATE t SET x = 11 WHERE id = 1"))
            await db.commit()
        assert hops == ["_execute", "commit"]
    finally:
        await engine.dispose()


async def test_sqlalchemy_after_a_cancelled_statement_and_dispose_leave_no_thread(
    tmp_path: Path,
) -> None:
    before = driver_threads()
    engine = create_engine(f"sqlite:///{tmp_path / 'sandpit.db'}")
    entered, release = threading.Event(), threading.Event()

    def block() -> int:
        entered.set()
        release.wait(10)
        return 1

    @event.listens_for(engine.sync_engine, "connect")
    def functions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("block", 0, block)

    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))

        async def write_slowly() -> None:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
                await connection.execute(text("INSERT INTO t SELECT 2 + block()"))

        statement = asyncio.create_task(write_slowly())
        assert await asyncio.to_thread(entered.wait, 10)
        statement.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await statement

        # Nothing of the cancelled transaction stayed; the engine carries on.
        async with engine.begin() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        assert len(driver_threads()) > len(before)
    finally:
        await engine.dispose()
    assert set(driver_threads()) <= set(before)  # none of ours left


async def test_the_engine_reports_a_locked_database(tmp_path: Path) -> None:
    path = tmp_path / "sandpit.db"
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine.sync_engine, "connect")
    def impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=50")
        cursor.close()

    holder = sqlite3.connect(path, isolation_level=None)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        holder.execute("ROLLBACK")
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        holder.close()
        await engine.dispose()


@pytest.mark.parametrize("database", [":memory:", "file::memory:?cache=shared&uri=true"])
async def test_the_engine_drives_in_memory_and_uri_databases_too(database: str) -> None:
    engine = create_engine(f"sqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await engine.dispose()
