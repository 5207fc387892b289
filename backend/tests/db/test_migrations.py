"""An old database upgrades to head with its data intact, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sandpit.db import migrate
from sandpit.db.engine import async_url, create_engine

HEAD = "0009"


async def test_upgrade_from_first_revision_keeps_data(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0001")
        assert await migrate.current_revision(engine) == "0001"
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, role, created_at) "
                    "VALUES ('u1', 'olduser', 'hash', 'user', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO workspaces (id, owner_id, name, created_at, updated_at) "
                    "VALUES ('w1', 'u1', 'old work', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )

        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == HEAD
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT name, last_opened_at, ui_state FROM workspaces WHERE id = 'w1'")
                )
            ).one()
        assert row.name == "old work"
        assert row.last_opened_at is None
        assert row.ui_state in ({}, "{}")
    finally:
        await engine.dispose()


async def test_runs_recorded_before_transcripts_keep_their_output(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0004")
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO users (id, username, password_hash, role, created_at) "
                "VALUES ('u1', 'olduser', 'hash', 'user', CURRENT_TIMESTAMP)",
                "INSERT INTO workspaces (id, owner_id, name, created_at, updated_at) "
                "VALUES ('w1', 'u1', 'old work', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO runs (id, workspace_id, user_id, status, stdout, stderr, truncated, "
                "images, created_at) VALUES ('r1', 'w1', 'u1', 'ok', 'out', 'err', false, 0, "
                "CURRENT_TIMESTAMP)",
            ):
                await connection.execute(text(statement))

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text("SELECT stdout, stderr, segments, typed FROM runs WHERE id = 'r1'")
                )
            ).one()
        # No order known: clients show stdout, then stderr, as before.
        assert tuple(row) == ("out", "err", None, None)
    finally:
        await engine.dispose()


async def test_accounts_and_runs_from_before_0007_are_enabled_and_count_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0005")
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO users (id, username, password_hash, role, created_at) "
                "VALUES ('u1', 'olduser', 'hash', 'user', CURRENT_TIMESTAMP)",
                "INSERT INTO workspaces (id, owner_id, name, created_at, updated_at) "
                "VALUES ('w1', 'u1', 'old work', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO runs (id, workspace_id, user_id, status, stdout, stderr, truncated, "
                "images, created_at) VALUES ('r1', 'w1', 'u1', 'ok', 'out', 'err', false, 0, "
                "CURRENT_TIMESTAMP)",
            ):
                await connection.execute(text(statement))

        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            disabled = (
                await connection.execute(text("SELECT disabled FROM users WHERE id = 'u1'"))
            ).scalar_one()
            stored = (
                await connection.execute(text("SELECT stored_bytes FROM runs WHERE id = 'r1'"))
            ).scalar_one()
            invitations = (
                await connection.execute(text("SELECT count(*) FROM invitations"))
            ).scalar_one()
        assert (bool(disabled), stored, invitations) == (False, 0, 0)
    finally:
        await engine.dispose()


async def test_upgrade_is_idempotent(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == HEAD
    finally:
        await engine.dispose()


def test_async_url_maps_plain_urls() -> None:
    assert async_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert async_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert async_url("sqlite:////tmp/x.db") == "sqlite+aiosqlite:////tmp/x.db"
    assert async_url("postgresql+asyncpg://h/db") == "postgresql+asyncpg://h/db"
    with pytest.raises(Exception, match="SQLite or PostgreSQL"):
        async_url("mysql://h/db")
