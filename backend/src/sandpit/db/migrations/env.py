"""Alembic environment: runs on a connection handed over by `sandpit.db.migrate`.

Run from the command line (`alembic -c backend/alembic.ini revision ...`) it
builds an engine from `DATABASE_URL` / the default settings instead.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from sandpit.db.models import Base

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_standalone() -> None:
    from sandpit.config import Settings
    from sandpit.db.engine import create_engine

    async def main() -> None:
        engine = create_engine(Settings().effective_database_url())
        async with engine.begin() as connection:
            await connection.run_sync(_run)
        await engine.dispose()

    asyncio.run(main())


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _run_standalone()
