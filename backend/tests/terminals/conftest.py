"""Fixtures for terminal tests: one real server (SQLite) and clients attached to real shells."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import User
from tests.servers import SandpitServer
from tests.terminals.client import TerminalClient


@pytest.fixture(scope="session", params=["bubblewrap", "docker"])
def server(request: pytest.FixtureRequest) -> Iterator[SandpitServer]:
    """One server per sandbox backend: every terminal test runs on both.

    Terminals keep no state in the database (the command log aside, whose
    table the migration tests cover on PostgreSQL): SQLite only, to keep time."""
    instance = SandpitServer(sandbox_backend=request.param)
    instance.start()
    yield instance
    instance.close()


class Terminals:
    """Opens terminals for one user and attaches clients to them; closes the clients after."""

    def __init__(self, server: SandpitServer, user: User) -> None:
        self.server = server
        self.user = user
        self.workspace = user.workspace()
        self._clients: list[TerminalClient] = []

    def create(self, **size: int) -> str:
        response = self.user.client.post(
            f"/api/workspaces/{self.workspace}/terminals", json=size or None
        )
        assert response.status_code == 201, response.text
        terminal_id: str = response.json()["id"]
        return terminal_id

    def attach(self, terminal_id: str, **options: Any) -> TerminalClient:
        client = TerminalClient(
            self.server, self.user.token, self.workspace, terminal_id, **options
        )
        self._clients.append(client)
        return client

    def shell(self, **options: Any) -> TerminalClient:
        """A new terminal with a client attached, its first prompt read."""
        client = self.attach(self.create(), **options)
        client.read_until(r"\$ ")
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture
def terminals(server: SandpitServer, user: User) -> Iterator[Terminals]:
    helper = Terminals(server, user)
    yield helper
    helper.close()
