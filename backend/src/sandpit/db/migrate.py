"""Apply Alembic migrations programmatically (at server start and from the CLI).

An upgrade is all or nothing: every step runs in one transaction, on
PostgreSQL and on SQLite alike (SQLite's driver would otherwise run DDL
outside any transaction, so a step failing half-way would leave half a
schema). A database at a revision this version does not know (written by a
newer Sandpit) is refused with `SchemaTooNew` before anything is touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from sandpit.db.engine import create_engine
from sandpit.errors import SandpitError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Any constant works; it only has to be the same for every replica, so that
# replicas starting together on PostgreSQL migrate one at a time.
_PG_ADVISORY_LOCK = 0x5A4D_9137


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations, optionally bound to `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class SchemaTooNew(SandpitError):
    """The database was upgraded by a newer Sandpit than this one."""

    status_code = 500


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database behind `engine` to `revision` (default: the newest).

    Raises `SchemaTooNew` for a database newer than this code; any other
    failure rolls the whole upgrade back and re-raises.
    """
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_sync, revision)
        return
    # A separate engine whose transactions are real SQLite transactions
    # (SQLAlchemy's recipe for pysqlite/aiosqlite: the driver's own
    # transaction handling off, BEGIN emitted by us), so DDL is rolled back too.
    transactional = create_engine(engine.url.render_as_string(hide_password=False))
    event.listen(transactional.sync_engine, "connect", _driver_autocommit)
    event.listen(transactional.sync_engine, "begin", _begin_immediate)
    try:
        async with transactional.begin() as connection:
            await connection.run_sync(_upgrade_sync, revision)
    finally:
        await transactional.dispose()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_immediate(connection: Connection) -> None:
    # IMMEDIATE: take the write lock now, so two servers starting together
    # migrate one after the other.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def _upgrade_sync(connection: Connection, revision: str) -> None:
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_ADVISORY_LOCK})
    config = alembic_config(connection)
    _refuse_unknown(connection, ScriptDirectory.from_config(config))
    command.upgrade(config, revision)


def knows(revision: str) -> bool:
    """True if `revision` is one of this code's migrations (False: a newer Sandpit's)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


def _refuse_unknown(connection: Connection, scripts: ScriptDirectory) -> None:
    current = MigrationContext.configure(connection).get_current_heads()
    for found in current:
        try:
            known = scripts.get_revision(found)
        except CommandError:
            known = None
        if known is None:
            raise SchemaTooNew(
                f"The database is at schema revision {found!r}, which this version of "
                f"Sandpit does not know (its newest is {scripts.get_current_head()!r}): a newer "
                "version has upgraded it. Run that version, or restore the backup taken "
                "before the upgrade."
            )
