"""Accounts between many users: sign-up limits, invitations, sign-in throttling,
class lists, disabling and deleting accounts, through HTTP against real servers.

Client addresses: test servers trust `X-Forwarded-For` from 127.0.0.1
(`TRUSTED_PROXIES`, as behind the documented reverse proxy), so one test
client speaks for several addresses.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import User
from tests.servers import SandpitServer, mounts_under

PASSWORD = "correct horse battery"


def name(prefix: str = "a") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def at(address: str) -> dict[str, str]:
    """Headers that make a request come from `address`."""
    return {"X-Forwarded-For": address}


def register(client: httpx.Client, username: str, address: str, **extra: object) -> httpx.Response:
    body = {"username": username, "password": PASSWORD, **extra}
    return client.post("/api/auth/register", json=body, headers=at(address))


def login(client: httpx.Client, username: str, password: str, address: str) -> httpx.Response:
    return client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=at(address)
    )


def poll_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def make_admin(server: SandpitServer, client: httpx.Client, address: str = "10.9.9.9") -> str:
    """A new administrator's bearer token (made with the CLI, as an operator would)."""
    username = name("adm")
    subprocess.run(
        [sys.executable, "-m", "sandpit", "user", "create", username, "--role", "admin",
         "--password-stdin"],
        input=PASSWORD + "\n",
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    signed_in = login(client, username, PASSWORD, address)
    assert signed_in.status_code == 200, signed_in.text
    token: str = signed_in.json()["access_token"]
    client.cookies.clear()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def limited() -> Iterator[SandpitServer]:
    """Small, quick limits, so they can be reached and seen to reset."""
    instance = SandpitServer(
        signups_per_address="3",
        signup_window_s="3",
        login_free_failures="5",
        login_delay_base_s="1",
        login_delay_max_s="2",
    )
    instance.start()
    yield instance
    instance.close()


@pytest.fixture
def client(limited: SandpitServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.url, timeout=30) as anon:
        yield anon


# --- Sign-up per address ------------------------------------------------------


# Windows of 1-3 s against sign-ups and sign-ins that each hash a password (CPU):
# on a host busy with other tests, the requests outlast the window it counts.
@pytest.mark.exclusive
def test_sign_ups_per_address_are_limited_then_reset(client: httpx.Client) -> None:
    address = "198.51.100.7"
    assert [register(client, name(), address).status_code for _ in range(3)] == [201] * 3
    refused = register(client, name(), address)
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert 1 <= seconds <= 3
    assert refused.json()["detail"].startswith("Too many sign-ups from your address")
    # Another address is not held back.
    assert register(client, name(), "198.51.100.8").status_code == 201
    # The window passes: the address may sign up again.
    poll_until(
        lambda: register(client, name(), address).status_code == 201, 10, "the window to pass"
    )


# --- Sign-in throttling per (account, address) -----------------------------------


@pytest.mark.exclusive  # as above: a 1-2 s wait
def test_a_stranger_cannot_lock_the_owner_out(client: httpx.Client) -> None:
    owner = name("own")
    assert register(client, owner, "192.0.2.1").status_code == 201
    stranger = "203.0.113.66"
    statuses = [login(client, owner, f"wrong-guess-{i}", stranger).status_code for i in range(10)]
    assert statuses[:6] == [401] * 6
    assert set(statuses[6:]) == {429}
    # The owner, from their own address, signs in at once.
    assert login(client, owner, PASSWORD, "192.0.2.1").status_code == 200


@pytest.mark.exclusive  # as above: a 1-2 s wait
def test_failed_sign_ins_grow_the_wait_then_it_resets(client: httpx.Client) -> None:
    owner = name("own")
    assert register(client, owner, "192.0.2.2").status_code == 201
    address = "203.0.113.67"
    for i in range(6):
        assert login(client, owner, f"wrong-{i}", address).status_code == 401
    held = login(client, owner, PASSWORD, address)
    assert held.status_code == 429
    assert held.headers["Retry-After"] == "1"
    assert held.json()["detail"] == "Too many failed sign-in attempts; try again in 1 seconds."
    # After the wait, one more failure doubles it.
    poll_until(lambda: login(client, owner, "wrong-7", address).status_code == 401, 5, "1 s")
    doubled = login(client, owner, PASSWORD, address)
    assert doubled.status_code == 429
    assert doubled.headers["Retry-After"] == "2"
    # Once it has passed, the right password signs in and clears the count.
    poll_until(lambda: login(client, owner, PASSWORD, address).status_code == 200, 6, "2 s")
    assert login(client, owner, "wrong-again", address).status_code == 401


# --- Closed sign-up, invitations and administrators ------------------------------


@pytest.fixture(scope="module")
def closed() -> Iterator[SandpitServer]:
    instance = SandpitServer(signup_open="false")
    instance.start()
    yield instance
    instance.close()


def test_closed_sign_up_needs_an_invitation(closed: SandpitServer) -> None:
    with httpx.Client(base_url=closed.url, timeout=30) as anon:
        assert anon.get("/api/auth/registration").json() == {"open": False}
        refused = register(anon, name(), "192.0.2.10")
        assert refused.status_code == 403
        assert "Sign-up is closed" in refused.json()["detail"]

        admin = bearer(make_admin(closed, anon))
        made = anon.post(
            "/api/admin/invitations", json={"uses": 1, "role": "reviewer"}, headers=admin
        )
        assert made.status_code == 201, made.text
        code = made.json()["code"]
        listed = anon.get("/api/admin/invitations", headers=admin).json()
        assert [i["uses_left"] for i in listed if i["id"] == made.json()["id"]] == [1]
        assert all("code" not in i for i in listed)

        username = name("inv")
        joined = register(anon, username, "192.0.2.11", invitation=code)
        assert joined.status_code == 201, joined.text
        assert joined.json()["role"] == "reviewer"
        # Used up.
        again = register(anon, name(), "192.0.2.12", invitation=code)
        assert again.status_code == 403
        assert "not valid" in again.json()["detail"]
        assert register(anon, name(), "192.0.2.12", invitation="made-up").status_code == 403


def test_a_taken_name_does_not_use_up_the_invitation(closed: SandpitServer) -> None:
    with httpx.Client(base_url=closed.url, timeout=30) as anon:
        admin = bearer(make_admin(closed, anon, "10.9.9.8"))
        code = anon.post("/api/admin/invitations", json={"uses": 1}, headers=admin).json()["code"]
        taken = anon.post(
            "/api/admin/users", json={"username": name("t"), "password": PASSWORD}, headers=admin
        ).json()["username"]
        assert register(anon, taken, "192.0.2.13", invitation=code).status_code == 409
        assert register(anon, name(), "192.0.2.13", invitation=code).status_code == 201


def test_admins_create_accounts_and_import_a_class_list(closed: SandpitServer) -> None:
    with httpx.Client(base_url=closed.url, timeout=30) as anon:
        admin = bearer(make_admin(closed, anon, "10.9.9.7"))
        one = name("s")
        made = anon.post(
            "/api/admin/users", json={"username": one, "password": PASSWORD}, headers=admin
        )
        assert made.status_code == 201, made.text
        assert made.json()["disabled"] is False

        ada, bob = name("ada"), name("bob")
        class_list = f"username,password,role\n{ada},,user\n{bob},bobs-own-pass,reviewer\n"
        class_list += f"{one},whatever-pass,\nBad Name,,\n\n{name('c')},,teacher\n"
        imported = anon.post(
            "/api/admin/class-lists",
            content=class_list,
            headers={**admin, "Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        rows = imported.json()
        # Lines of the list as sent (the header is line 1).
        assert [(r["line"], r["error"] is None) for r in rows] == [
            (2, True), (3, True), (4, False), (5, False), (7, False)
        ]  # fmt: skip
        assert "already taken" in rows[2]["error"]
        assert "No role 'teacher'" in rows[4]["error"]
        empty = anon.post("/api/admin/class-lists", content=b"", headers=admin)
        assert empty.status_code == 200
        assert empty.json() == []
        nul = anon.post("/api/admin/class-lists", content=b"a\x00b,x\n", headers=admin)
        assert nul.status_code == 200
        assert "A username is" in nul.json()[0]["error"]
        generated = rows[0]["password"]
        assert generated
        assert rows[1]["password"] is None
        assert login(anon, ada, generated, "10.1.1.1").status_code == 200
        assert login(anon, bob, "bobs-own-pass", "10.1.1.1").status_code == 200

        reviewer = bearer(login(anon, bob, "bobs-own-pass", "10.1.1.2").json()["access_token"])
        anon.cookies.clear()
        refused = anon.post(
            "/api/admin/users", json={"username": name(), "password": PASSWORD}, headers=reviewer
        )
        assert refused.status_code == 403


def test_the_cli_imports_a_class_list(closed: SandpitServer) -> None:
    ada, bob = name("ada"), name("bob")
    result = subprocess.run(
        [sys.executable, "-m", "sandpit", "user", "import", "-"],
        input=f"{ada}\n{bob},bobs-own-pass\n",
        env=closed.env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "username,password,role,error"
    row = lines[1].split(",")
    assert row[0] == ada
    assert row[2:] == ["user", ""]
    assert lines[2] == f"{bob},,user,"
    with httpx.Client(base_url=closed.url, timeout=30) as anon:
        assert login(anon, ada, row[1], "10.2.2.2").status_code == 200


def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop(closed: SandpitServer) -> None:
    with httpx.Client(base_url=closed.url, timeout=30) as anon:
        admin = bearer(make_admin(closed, anon, "10.9.9.6"))
        username = name("d")
        user_id = anon.post(
            "/api/admin/users", json={"username": username, "password": PASSWORD}, headers=admin
        ).json()["id"]
        token = login(anon, username, PASSWORD, "10.3.3.3").json()["access_token"]
        anon.cookies.clear()
        assert anon.get("/api/auth/me", headers=bearer(token)).status_code == 200

        disabled = anon.patch(f"/api/admin/users/{user_id}", json={"disabled": True}, headers=admin)
        assert disabled.status_code == 200
        assert disabled.json()["disabled"] is True
        assert anon.get("/api/auth/me", headers=bearer(token)).status_code == 401
        refused = login(anon, username, PASSWORD, "10.3.3.3")
        assert refused.status_code == 403
        assert "disabled" in refused.json()["detail"]

        anon.patch(f"/api/admin/users/{user_id}", json={"disabled": False}, headers=admin)
        assert anon.get("/api/auth/me", headers=bearer(token)).status_code == 200


# --- Deleting an account ------------------------------------------------------------


def traces(data_dir: Path, workspace_id: str) -> list[str]:
    """What of a workspace is on disk under the data directory (nothing, after deletion)."""
    found = [str(p) for p in data_dir.rglob(f"*{workspace_id}*")]
    found += [str(m) for m in mounts_under(data_dir) if workspace_id in str(m)]
    return found


def test_deleting_your_account_leaves_nothing_on_disk(server: SandpitServer) -> None:
    user = User(server)
    try:
        ws = user.workspace()
        assert user.client.put(f"/api/workspaces/{ws}/files/main.py", content=b"x = 1\n").is_success
        plot = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nprint('done')\n"
        ran = user.client.post(
            f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": plot}, timeout=120
        )
        assert ran.status_code == 200, ran.text
        assert len(ran.json()["images"]) == 1
        # A run still running and a terminal open when the account goes.
        started = user.client.post(
            f"/api/workspaces/{ws}/runs", json={"code": "import time\ntime.sleep(60)"}
        )
        assert started.status_code == 202
        assert user.client.post(f"/api/workspaces/{ws}/terminals", json={}).status_code == 201
        assert traces(server.data_dir, ws)  # the workspace, its volume, the run's plot

        wrong = user.client.request("DELETE", "/api/auth/me", json={"password": "not-mine-1"})
        assert wrong.status_code == 403
        deleted = user.client.request("DELETE", "/api/auth/me", json={"password": user.password})
        assert deleted.status_code == 204, deleted.text

        assert traces(server.data_dir, ws) == []
        assert user.client.get("/api/auth/me").status_code == 401
        again = user.client.post(
            "/api/auth/login", json={"username": user.username, "password": user.password}
        )
        assert again.status_code == 401
    finally:
        user.close()


def test_an_admin_deletes_a_user_and_their_files(server: SandpitServer) -> None:
    user = User(server)
    try:
        ws = user.workspace()
        user.client.put(f"/api/workspaces/{ws}/files/a.txt", content=b"a\n")
        with httpx.Client(base_url=server.url, timeout=30) as anon:
            admin = bearer(make_admin(server, anon, "10.9.9.5"))
            assert anon.delete(f"/api/admin/users/{user.id}", headers=admin).status_code == 204
            assert anon.delete(f"/api/admin/users/{user.id}", headers=admin).status_code == 404
        assert traces(server.data_dir, ws) == []
        assert user.client.get("/api/auth/me").status_code == 401
    finally:
        user.close()
