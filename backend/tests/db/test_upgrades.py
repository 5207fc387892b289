"""Upgrades: from every earlier revision with data, all or nothing, and never onto a newer schema.

On SQLite and PostgreSQL (the `database_url` fixture), with the real
migrations; the failing step is a real migration script added to a copy of
the migrations folder.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from sandpit.db import migrate
from sandpit.db.engine import create_engine

# Rows written at the first revision whose schema holds them; each later
# upgrade must keep them. (A new table's rows join here with its revision.)
ROWS: dict[str, list[str]] = {
    "0001": [
        "INSERT INTO users (id, username, password_hash, role, created_at) "
        "VALUES ('u1', 'olduser', 'hash', 'user', CURRENT_TIMESTAMP)",
        "INSERT INTO workspaces (id, owner_id, name, created_at, updated_at) "
        "VALUES ('w1', 'u1', 'old work', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    ],
    "0003": [
        "INSERT INTO runs (id, workspace_id, user_id, status, stdout, stderr, truncated, "
        "images, created_at) VALUES ('r1', 'w1', 'u1', 'ok', 'out', 'err', false, 0, "
        "CURRENT_TIMESTAMP)",
    ],
    "0004": [
        "INSERT INTO command_log (user_id, workspace_id, terminal_id, command, skipped_before, "
        "created_at) VALUES ('u1', 'w1', 't1', 'ls -l', 0, CURRENT_TIMESTAMP)",
    ],
}
CHECKS = {
    "SELECT username FROM users": [("olduser",)],
    "SELECT name FROM workspaces": [("old work",)],
}


def revisions() -> list[str]:
    """Every revision, oldest first."""
    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    return [r.revision for r in reversed(list(scripts.walk_revisions()))]


HEAD = revisions()[-1]


@pytest.mark.parametrize("start", revisions()[:-1])
async def test_upgrade_from_every_earlier_revision_keeps_the_data(
    database_url: str, start: str
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, start)
        written = [r for r in ROWS if r <= start]
        async with engine.begin() as connection:
            for revision in written:
                for statement in ROWS[revision]:
                    await connection.execute(text(statement))
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == HEAD
        async with engine.connect() as connection:
            for query, expected in CHECKS.items():
                assert (await connection.execute(text(query))).all() == expected
            if "0003" in written:
                row = (await connection.execute(text("SELECT stdout, stderr FROM runs"))).one()
                assert tuple(row) == ("out", "err")
            if "0004" in written:
                logged = (await connection.execute(text("SELECT command FROM command_log"))).all()
                assert logged == [("ls -l",)]
    finally:
        await engine.dispose()


BROKEN = '''
"""A step that changes the schema, then fails (as a bad migration would)."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("extra", sa.Integer(), nullable=True))
    op.execute("UPDATE users SET username = 'changed'")
    op.execute("SELECT * FROM no_such_table")


def downgrade() -> None:
    pass
'''


async def test_a_failed_migration_leaves_the_database_as_it_was(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            for statement in ROWS["0001"]:
                await connection.execute(text(statement))
        before = await _schema(engine)

        broken = tmp_path / "migrations"
        shutil.copytree(migrate.MIGRATIONS_DIR, broken)
        (broken / "versions" / "9999_broken.py").write_text(
            textwrap.dedent(BROKEN).format(head=HEAD)
        )
        monkeypatch.setattr(migrate, "MIGRATIONS_DIR", broken)
        with pytest.raises(Exception, match="no_such_table"):
            await migrate.upgrade(engine)

        assert await migrate.current_revision(engine) == HEAD
        assert await _schema(engine) == before
        async with engine.connect() as connection:
            names = (await connection.execute(text("SELECT username FROM users"))).all()
        assert names == [("olduser",)]
    finally:
        await engine.dispose()


async def test_a_database_newer_than_the_code_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        before = await _schema(engine)
        with pytest.raises(migrate.SchemaTooNew, match="newer version has upgraded it"):
            await migrate.upgrade(engine)
        assert await _schema(engine) == before
    finally:
        await engine.dispose()


async def _schema(engine: object) -> list[tuple[str, str]]:
    """Every (table, column) of the database, sorted."""
    from sqlalchemy import inspect
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: sorted(
                (table, column["name"])
                for table in inspect(sync).get_table_names()
                for column in inspect(sync).get_columns(table)
            )
        )
