"""Shared fixtures: real PostgreSQL, real Sandpit servers, and API clients."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from sandpit import fds
from tests.servers import PostgresServer, SandpitServer

# --- One owner per descriptor (security invariant 10) ------------------------
# The whole pass runs with the guard on: in this process here, in every test
# server through FD_GUARD (tests.servers fails a server whose log reports one).
fds.install_guard()


@pytest.fixture(autouse=True)
def _no_double_close() -> Iterator[None]:
    """Fail the test that closed a descriptor twice, naming both closers."""
    fds.take_violations()
    yield
    found = fds.take_violations()
    if found:
        pytest.fail("\n\n".join(v.describe() for v in found), pytrace=False)


# --- Session-wide plugins (the skip guard: a skip outside its allowlist fails the pass;
# the order in which xdist workers get the files: the longest first) ---
pytest_plugins = ["tests.plugins.skip_guard", "tests.plugins.schedule"]
# --- end of session-wide plugins ---


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    # Not under pytest's tmp_path: its parents are private to root, and
    # PostgreSQL runs as the `postgres` account.
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="sandpit-pg-")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(request: pytest.FixtureRequest) -> Iterator[SandpitServer]:
    """A running server, once with SQLite and once with PostgreSQL."""
    yield from session_server(request)


def session_server(request: pytest.FixtureRequest, **settings: str) -> Iterator[SandpitServer]:
    """Start a server on the database `request.param` names, yield it, close it."""
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres").create_database()
    instance = SandpitServer(database_url, **settings)
    instance.start()
    yield instance
    instance.close()


@pytest.fixture
def anon(server: SandpitServer) -> Iterator[httpx.Client]:
    """A client with no credentials."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


class User:
    """A registered, signed-in user and a client that sends their token."""

    def __init__(self, server: SandpitServer) -> None:
        self.username = f"u{uuid.uuid4().hex[:12]}"
        self.password = "correct horse battery"
        self.client = httpx.Client(base_url=server.url, timeout=30)
        registered = self.client.post(
            "/api/auth/register", json={"username": self.username, "password": self.password}
        )
        assert registered.status_code == 201, registered.text
        self.id: str = registered.json()["id"]
        login = self.client.post(
            "/api/auth/login", json={"username": self.username, "password": self.password}
        )
        assert login.status_code == 200, login.text
        self.token: str = login.json()["access_token"]
        # Bearer auth only: drop the cookie so tests see one mechanism at a time.
        self.client.cookies.clear()
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def close(self) -> None:
        self.client.close()

    def workspace(self, name: str = "ws") -> str:
        created = self.client.post("/api/workspaces", json={"name": name})
        assert created.status_code == 201, created.text
        workspace_id: str = created.json()["id"]
        return workspace_id


@pytest.fixture
def user(server: SandpitServer) -> Iterator[User]:
    signed_in = User(server)
    yield signed_in
    signed_in.client.close()


@pytest.fixture
def other_user(server: SandpitServer) -> Iterator[User]:
    signed_in = User(server)
    yield signed_in
    signed_in.client.close()


@pytest.fixture
def data_dir(server: SandpitServer) -> Path:
    return server.data_dir


@pytest.fixture
def make_user() -> Iterator[Callable[[SandpitServer], User]]:
    """A factory for users of any server; their clients are closed afterwards."""
    made: list[User] = []

    def make(server: SandpitServer) -> User:
        made.append(User(server))
        return made[-1]

    yield make
    for user in made:
        user.close()
