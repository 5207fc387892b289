"""The database work on a request's path: aiosqlite against our one-hop SQLite driver.

Both engines are made as the server makes its SQLite engine (the same pragmas,
a WAL file database, a 30 s busy timeout); only the driver connection differs:
aiosqlite's, as before, or sandpit/db/sqlite_driver.py's, as now. Each operation
is timed on both in alternating blocks, so a busy machine weighs on both alike.
Operations, each in its own session, as a request does them:
- get: `await db.get(Row, id)` by primary key (and the session's close);
- insert: add a row and commit;
- update: an UPDATE of one row by primary key, and commit.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import uvloop
from common import print_table, row
from sqlalchemy import String, Text, event, update
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sandpit.db import sqlite_driver
from sandpit.db.engine import _sqlite_pragmas, create_engine

ROUNDS = 20
PER_ROUND = 100


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    output: Mapped[str] = mapped_column(Text)


def aiosqlite_engine(path: Path) -> AsyncEngine:
    """The engine as db/engine.py made it before our driver."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


async def timed(operation: Callable[[], Awaitable[object]], samples: list[float]) -> None:
    for _ in range(PER_ROUND):
        start = time.perf_counter()
        await operation()
        samples.append((time.perf_counter() - start) * 1000)


async def measure(folder: Path) -> list[tuple[str, ...]]:
    engines = {
        "aiosqlite": aiosqlite_engine(folder / "a.db"),
        "sqlite_driver": create_engine(f"sqlite:///{folder / 'b.db'}"),
    }
    operations: dict[tuple[str, str], Callable[[], Awaitable[object]]] = {}
    for name, engine in engines.items():
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        async with sessions() as db:
            db.add(Row(id=1, status="done", output="hi\n"))
            await db.commit()
        operations.update(
            {
                ("get", name): _get(sessions),
                ("insert", name): _insert(sessions),
                ("update", name): _update(sessions),
            }
        )
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in operations}
    for operation in operations.values():  # warm up every path
        await timed(operation, [])
    hops = {key: await count_hops(operation) for key, operation in operations.items()}
    for _ in range(ROUNDS):
        for key, operation in operations.items():
            await timed(operation, samples[key])
    for engine in engines.values():
        await engine.dispose()
    return [
        (*row(f"{op} ({driver})", samples[op, driver]), str(hops[op, driver]))
        for op, driver in operations
    ]


async def count_hops(operation: Callable[[], Awaitable[object]]) -> int:
    """Trips to a connection's thread for one `operation`: every one goes through
    aiosqlite's `Connection._execute`, or through our driver's `Connection._submit`."""
    count = 0
    originals = [
        (aiosqlite.Connection, "_execute", aiosqlite.Connection._execute),
        (sqlite_driver.Connection, "_submit", sqlite_driver.Connection._submit),
    ]

    def counted(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def hop(*args: Any, **kwargs: Any) -> Any:
            nonlocal count
            count += 1
            return await original(*args, **kwargs)

        return hop

    for owner, name, original in originals:
        setattr(owner, name, counted(original))
    try:
        await operation()
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return count


def _get(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], Awaitable[object]]:
    async def get() -> object:
        async with sessions() as db:
            return await db.get(Row, 1)

    return get


def _insert(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], Awaitable[object]]:
    async def insert() -> object:
        async with sessions() as db:
            db.add(Row(status="queued", output=""))
            await db.commit()
        return None

    return insert


def _update(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], Awaitable[object]]:
    counter = iter(range(10**9))

    async def write() -> object:
        async with sessions() as db:
            await db.execute(update(Row).where(Row.id == 1).values(output=f"run {next(counter)}"))
            await db.commit()
        return None

    return write


def main() -> None:
    print(f"{ROUNDS * PER_ROUND} of each, in alternating blocks of {PER_ROUND}")
    # uvloop: the server's loop (uvicorn picks it when installed); asyncio's own beside it.
    for loop, run in (("uvloop", uvloop.run), ("asyncio", asyncio.run)):
        with tempfile.TemporaryDirectory() as folder:
            rows = run(measure(Path(folder)))
        print(f"\n{loop}:\n")
        print_table(("operation (driver)", "n", "p50 ms", "p95 ms", "mean ms", "hops"), rows)


if __name__ == "__main__":
    main()
