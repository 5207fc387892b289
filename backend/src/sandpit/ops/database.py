"""Copying the database out and back: SQLite's online backup API, PostgreSQL's pg_dump.

Both copies are consistent while the server writes: SQLite's backup API
restarts the copy if a writer changes a page under it (WAL readers see one
snapshot), and pg_dump reads in one repeatable-read transaction.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from sandpit.db import migrate
from sandpit.db.engine import async_url, create_engine
from sandpit.ops.archive import BackupError

PG_DUMP = "pg_dump"
PG_RESTORE = "pg_restore"


def kind(url: str) -> str:
    """`"sqlite"` or `"postgresql"` for a database URL."""
    return "sqlite" if make_url(async_url(url)).drivername.startswith("sqlite") else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError("DATABASE_URL names an in-memory SQLite database; nothing to back up.")
    return Path(database).resolve()


def copy_sqlite(url: str, destination: Path) -> None:
    """Copy the SQLite database at `url` into the new file `destination`."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"There is no database at {source_path}.")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
        source.close()


def check_sqlite(path: Path) -> None:
    """`BackupError` unless `path` is an intact SQLite database."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"The backup's database is damaged: {exc}.") from exc
    finally:
        connection.close()
    if result is None or result[0] != "ok":
        raise BackupError(f"The backup's database is damaged: {result}.")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without its password, and an environment carrying the password."""
    parsed = make_url(url)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run_pg(argv: list[str], env: dict[str, str], action: str) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{argv[0]} is not installed (Debian: postgresql-client).")
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"Could not {action}: {result.stderr.strip()}")


def dump_postgres(url: str, destination: Path) -> None:
    """`pg_dump` the database at `url` into `destination` (custom format)."""
    dsn, env = _libpq(url)
    _run_pg(
        [PG_DUMP, "--format=custom", "--no-owner", "--no-privileges", f"--file={destination}", dsn],
        env,
        "dump the PostgreSQL database",
    )


def restore_postgres(url: str, dump: Path) -> None:
    """Load `dump` into the (empty) database at `url` in one transaction: all or nothing."""
    dsn, env = _libpq(url)
    _run_pg(
        [
            PG_RESTORE,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={dsn}",
            str(dump),
        ],
        env,
        "restore the PostgreSQL database",
    )


def revision(url: str) -> str | None:
    """The schema revision of the database at `url` (None if it has none)."""

    async def read() -> str | None:
        engine = create_engine(url)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def is_empty(url: str) -> bool:
    """True if the database at `url` holds no table (a SQLite file need not exist)."""
    if kind(url) == "sqlite":
        path = sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True

    async def count() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                if connection.dialect.name == "sqlite":
                    query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                else:
                    query = (
                        "SELECT count(*) FROM information_schema.tables "
                        "WHERE table_schema = current_schema()"
                    )
                return int((await connection.execute(text(query))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count()) == 0


def empty_postgres(url: str) -> None:
    """Drop every table of the database at `url` (undoing a restore that failed later)."""

    async def drop() -> None:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()

    asyncio.run(drop())
