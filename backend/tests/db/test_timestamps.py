"""Points in time come back from the database in UTC and time-zone aware, on SQLite and
PostgreSQL alike, also for rows an older server wrote (naive on SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from sandpit.db import migrate
from sandpit.db.engine import create_engine, session_factory
from sandpit.db.models import User, Workspace


async def test_rows_written_without_a_zone_read_back_in_utc(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            # As an older server (or a person with a SQL shell) wrote them.
            await connection.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, role, created_at) "
                    "VALUES ('u1', 'olduser', 'hash', 'user', CURRENT_TIMESTAMP)"
                )
            )
        async with session_factory(engine)() as db:
            user = await db.get(User, "u1")
            assert user is not None
            assert user.created_at.utcoffset() == timedelta(0)
            assert abs(datetime.now(UTC) - user.created_at) < timedelta(minutes=5)
    finally:
        await engine.dispose()


async def test_an_aware_time_in_another_zone_is_stored_as_the_same_instant(
    database_url: str,
) -> None:
    tokyo = timezone(timedelta(hours=9))
    written = datetime(2026, 12, 6, 15, 30, tzinfo=tokyo)
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine)() as db:
            db.add(User(id="u1", username="ada", password_hash="h", created_at=written))
            db.add(Workspace(id="w1", owner_id="u1", name="w", last_opened_at=written))
            await db.commit()
        async with session_factory(engine)() as db:
            workspace = await db.get(Workspace, "w1")
            assert workspace is not None
            assert workspace.last_opened_at == written
            assert workspace.last_opened_at is not None
            assert workspace.last_opened_at.tzinfo == UTC
            assert workspace.last_opened_at.hour == 6
            assert workspace.created_at.tzinfo == UTC
    finally:
        await engine.dispose()


async def test_a_naive_time_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with session_factory(engine)() as db:
            db.add(
                User(id="u1", username="ada", password_hash="h", created_at=datetime(2026, 1, 1))
            )
            with pytest.raises(StatementError, match="naive datetime"):
                await db.commit()
    finally:
        await engine.dispose()
