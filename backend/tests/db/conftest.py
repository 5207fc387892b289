"""The database tests' one fixture: an empty database, once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers import PostgresServer


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database (a new one on the shared PostgreSQL server)."""
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.create_database()
    return f"sqlite:///{tmp_path / 'sandpit.db'}"
