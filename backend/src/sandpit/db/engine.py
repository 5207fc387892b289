"""Engine and session factory for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from sandpit.db import sqlite_driver
from sandpit.errors import SandpitError


class DatabaseUrlError(SandpitError):
    """`DATABASE_URL` names a database we cannot drive."""


# Plain URLs as people write them, mapped to the async drivers we ship.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """Return `url` with an async driver, e.g. `postgresql://` → `postgresql+asyncpg://`.

    Raises `DatabaseUrlError` for a database other than SQLite or PostgreSQL.
    """
    parsed = make_url(url)
    if parsed.drivername in _ASYNC_DRIVERS:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[parsed.drivername])
    if parsed.drivername not in _ASYNC_DRIVERS.values():
        raise DatabaseUrlError(
            f"DATABASE_URL uses {parsed.drivername!r}; use SQLite or PostgreSQL "
            "(for example sqlite:///path/to/file.db or postgresql://user@host/db)."
        )
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str) -> AsyncEngine:
    """Create the engine. SQLite gets WAL, foreign keys and a busy timeout, and its
    file (with its journal, which SQLite makes with the file's mode) is the server's
    alone: mode 0600."""
    url = async_url(url)
    if url.startswith("sqlite"):
        parsed = make_url(url)
        _private_sqlite_file(parsed.database)
        engine = create_async_engine(url, async_creator=_sqlite_connector(parsed))
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "handle_error", _discard_broken_sqlite)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_connector(url: URL) -> Callable[[], Awaitable[sqlite_driver.Connection]]:
    """Connections through our one-hop-a-statement driver (sqlite_driver.py), in place
    of aiosqlite's; the dialect (SQLAlchemy's aiosqlite one) reads the URL as before
    (a path, `:memory:`, a `file:` URI with `?uri=true`), with a 30 s busy timeout."""
    args, kwargs = url.get_dialect()().create_connect_args(url)
    kwargs["timeout"] = 30
    return partial(sqlite_driver.connect, *args, **kwargs)


def _private_sqlite_file(database: str | None) -> None:
    """Create the database file 0600 (or make it so): it holds password hashes and tokens'
    owners, and every other host user could read a 0644 one."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path.with_name(path.name + suffix), 0o600, follow_symlinks=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed during a write; without foreign_keys SQLite
    # silently ignores ON DELETE CASCADE.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# SQLite's primary result codes after which a connection's own file handles
# or locks cannot be trusted: IOERR, CORRUPT, CANTOPEN, PROTOCOL, NOTADB. The
# connection is then thrown away (as for a lost server connection) so the next
# request gets a fresh one, instead of every later request failing with it.
_BROKEN_CONNECTION = frozenset({10, 11, 14, 15, 26})


def _discard_broken_sqlite(context: ExceptionContext) -> None:
    code = getattr(context.original_exception, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _BROKEN_CONNECTION:
        context.is_disconnect = True


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
