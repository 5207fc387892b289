"""The SQLite engine recovers from a connection whose files were taken from under it (issue 20)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from sandpit.db.engine import create_engine


def descriptors_of(path: Path) -> list[int]:
    """This process's descriptors open on `path` (its -wal and -shm files included)."""
    found = []
    for entry in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(int(entry))
    return found


async def test_a_connection_that_lost_its_files_is_replaced_not_kept(tmp_path: Path) -> None:
    database = tmp_path / "sandpit.db"
    engine = create_engine(f"sqlite:///{database}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        # What a second close by another owner did: SQLite's descriptors are
        # closed under it.
        stolen = descriptors_of(Path(f"{database}-wal"))
        assert stolen, "the pooled connection should hold the database's log open"
        for fd in stolen:
            os.close(fd)
        with pytest.raises(OperationalError, match="disk I/O error"):  # SQLITE_IOERR
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
        # The broken connection was discarded: the next request works.
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO t VALUES (2)"))
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 1
    finally:
        await engine.dispose()


async def test_concurrent_writers_on_sqlite_wait_and_never_fail(tmp_path: Path) -> None:
    """Many sessions reading then writing at once, as a class's runs do: all commit."""
    engine = create_engine(f"sqlite:///{tmp_path / 'sandpit.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))

        async def read_then_write(n: int) -> None:
            for _ in range(5):
                async with engine.begin() as connection:
                    await connection.execute(text("SELECT count(*) FROM t"))
                    await connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

        await asyncio.gather(*(read_then_write(n) for n in range(48)))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 240
    finally:
        await engine.dispose()
