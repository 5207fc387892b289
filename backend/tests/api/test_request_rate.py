"""The per-user request rate (api/request_rate.py), on a real server that keeps it low.

One server on PostgreSQL, so that a test can lock the users table from
outside: a request that authentication would read the database for then
waits, and a refusal that comes anyway came before any database read.
The tests run in file order; the last one drains the address's bucket.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.conftest import User
from tests.servers import PostgresServer, SandpitServer

pytestmark = pytest.mark.postgres

RATE, BURST = 1, 5
SCRAPE = "scrape-token-for-the-rate-tests"
# When the Retry-After of the newest refusal a test got ends. A refusal that
# comes before it is held for its Retry-After (a client that does not wait),
# and a hold refills a token: each test starts as a client that waited as told.
told_until = [0.0]


@pytest.fixture(autouse=True)
def waited_as_told() -> None:
    time.sleep(max(0.0, told_until[0] - time.monotonic()))


def told(refusal: httpx.Response) -> httpx.Response:
    told_until[0] = time.monotonic() + int(refusal.headers["Retry-After"])
    return refusal


@pytest.fixture(scope="module")
def server(postgres: PostgresServer) -> Iterator[SandpitServer]:
    instance = SandpitServer(
        postgres.create_database(),
        user_requests_per_s=str(RATE),
        user_request_burst=str(BURST),
        metrics_token=SCRAPE,
    )
    instance.start()
    yield instance
    instance.close()


@pytest.fixture(scope="module")
def users(server: SandpitServer) -> Iterator[tuple[User, User]]:
    # Each sign-up and sign-in is an anonymous request from 127.0.0.1: 4 of the burst of 5.
    pair = User(server), User(server)
    yield pair
    for user in pair:
        user.close()


def flood(client: httpx.Client, path: str = "/api/workspaces") -> tuple[int, httpx.Response]:
    """Requests `path` until one is refused; answers how many were admitted, and the refusal."""
    for admitted in range(BURST + 20):
        answer = client.get(path)
        if answer.status_code == 429:
            return admitted, told(answer)
    raise AssertionError(f"{BURST + 20} requests at once, none refused")


def assert_refused(answer: httpx.Response, whose: str) -> None:
    assert answer.status_code == 429, answer.text
    told(answer)
    assert 1 <= int(answer.headers["Retry-After"]) <= 2
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["limit"] == "user_requests_per_s"
    assert body["detail"].startswith(
        f"Too many requests: at most {RATE} a second for {whose} (bursts of {BURST}); try again in"
    ), body


def test_a_flood_gets_its_burst_then_429_with_retry_after_and_the_sentence(
    server: SandpitServer, users: tuple[User, User]
) -> None:
    flooder, _ = users
    admitted, refused = flood(flooder.client)
    # The burst, and perhaps a token or two refilled meanwhile.
    assert BURST <= admitted <= BURST + 2
    assert_refused(refused, "one user")
    metrics = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {SCRAPE}"})
    assert 'sandpit_refusals_total{route="/api/*",status="429"}' in metrics.text


def test_one_users_flood_does_not_refuse_another(users: tuple[User, User]) -> None:
    flooder, other = users
    assert flood(flooder.client)[1].status_code == 429
    assert other.client.get("/api/workspaces").status_code == 200


def test_a_new_session_of_the_same_user_shares_their_bucket(
    server: SandpitServer, users: tuple[User, User]
) -> None:
    flooder, _ = users
    # Signing in again gives another token, not another allowance (counted by user, not token).
    # Signed in before the flood: a sign-in (a password hash) can take over a second on a
    # loaded host, and the bucket refills one token a second.
    with httpx.Client(base_url=server.url) as anonymous:
        login = anonymous.post(
            "/api/auth/login", json={"username": flooder.username, "password": flooder.password}
        )
    assert login.status_code == 200, login.text
    flood(flooder.client)
    again = httpx.get(
        f"{server.url}/api/workspaces",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    )
    assert told(again).status_code == 429


def test_the_limit_resets(users: tuple[User, User]) -> None:
    flooder, _ = users
    _, refused = flood(flooder.client)
    deadline = time.monotonic() + int(refused.headers["Retry-After"]) + 5
    while (answer := flooder.client.get("/api/workspaces")).status_code == 429:
        assert time.monotonic() < deadline, "still refused long after Retry-After"
        time.sleep(0.1)
    assert answer.status_code == 200


def test_a_client_that_does_not_wait_has_its_refusal_held_for_retry_after(
    users: tuple[User, User],
) -> None:
    flooder, other = users
    _, refused = flood(flooder.client)
    began = time.monotonic()
    again = flooder.client.get("/api/workspaces")  # at once, not after Retry-After
    held = time.monotonic() - began
    assert told(again).status_code == 429  # decided when it came, answered after the hold
    assert held >= int(refused.headers["Retry-After"]) - 0.05
    assert other.client.get("/api/workspaces").status_code == 200  # nobody else is held


class UsersLocked:
    """The users table locked from another PostgreSQL session until `release()`:
    every request whose authentication reads the user waits."""

    def __init__(self, postgres: PostgresServer, database_url: str) -> None:
        self.psql = subprocess.Popen(
            [str(postgres.bin / "psql"), "-X", "-q", database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.psql.stdin is not None
        assert self.psql.stdout is not None
        self.psql.stdin.write(
            "BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n"
        )
        self.psql.stdin.flush()
        while "locked" not in self.psql.stdout.readline():
            pass

    def release(self) -> None:
        assert self.psql.stdin is not None
        assert self.psql.stdout is not None
        self.psql.stdin.write("ROLLBACK;\n")
        self.psql.stdin.close()
        self.psql.wait(timeout=30)
        self.psql.stdout.close()


def test_a_refusal_reads_no_database(
    server: SandpitServer, users: tuple[User, User], postgres: PostgresServer
) -> None:
    flooder, other = users
    locked = UsersLocked(postgres, server.env["DATABASE_URL"])
    try:
        # The bucket is emptied on an address that reads nothing (no such endpoint: 404).
        _, refused = flood(flooder.client, "/api/no-such-endpoint")
        assert refused.status_code == 429
        # A route that authenticates by the database is refused all the same...
        answer = flooder.client.get("/api/workspaces", timeout=20)
        assert_refused(answer, "one user")
        # ... while the lock holds every request that does read it.
        with pytest.raises(httpx.ReadTimeout):
            other.client.get("/api/workspaces", timeout=3)
    finally:
        locked.release()
    assert other.client.get("/api/workspaces").status_code == 200


def test_a_websocket_upgrade_is_counted(server: SandpitServer, users: tuple[User, User]) -> None:
    flooder, _ = users
    flood(flooder.client)
    url = server.url.replace("http://", "ws://") + "/api/workspaces/w/terminals/t/ws"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, additional_headers={"Authorization": f"Bearer {flooder.token}"}, proxy=None)
    response = refused.value.response
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    told_until[0] = time.monotonic() + int(response.headers["Retry-After"])
    assert b"Too many requests" in response.body


def test_without_a_session_the_address_is_counted_and_health_and_metrics_are_not(
    server: SandpitServer, users: tuple[User, User]
) -> None:
    _, other = users
    with httpx.Client(base_url=server.url) as anonymous:
        _, refused = flood(anonymous, "/api/auth/registration")
        assert_refused(refused, "one address without a session")
        # Not counted: liveness, the scrape, the web app's pages.
        assert anonymous.get("/api/health").status_code == 200
        scrape = {"Authorization": f"Bearer {SCRAPE}"}
        assert anonymous.get("/metrics", headers=scrape).status_code == 200
        assert anonymous.get("/").status_code == 200
        # A made-up token counts against the address, not a fresh bucket of its own.
        forged = anonymous.get("/api/workspaces", headers={"Authorization": "Bearer made.up.x"})
        assert forged.status_code == 429
    # A signed-in user at the same address has their own bucket.
    assert other.client.get("/api/workspaces").status_code == 200
