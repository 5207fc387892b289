"""nginx and Caddy in front of a real server, with the configurations shipped in deploy/.

Through each proxy, over TLS: a terminal echoes and survives a flood with
Ctrl+C, a run's output streams while the run still waits for input (so no
buffering), 1 MiB uploads, sign-in sets a Secure cookie and the Origin check
holds, and HSTS is sent. Rate limits key on the address the proxy passes,
and a forged X-Forwarded-For from outside TRUSTED_PROXIES is ignored.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import User
from tests.ops.proxies import Proxy, running_proxy
from tests.runs.events import follow, output_contains
from tests.servers import SandpitServer, free_port
from tests.terminals.client import TerminalClient

MiB = 1024 * 1024
PROXY_SETTINGS = {"trusted_proxies": '["127.0.0.1"]', "cookie_secure": "true"}


@pytest.fixture(scope="module")
def backend() -> Iterator[SandpitServer]:
    server = SandpitServer(**PROXY_SETTINGS)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def proxy(request: pytest.FixtureRequest, backend: SandpitServer) -> Iterator[Proxy]:
    with running_proxy(request.param, backend.port) as running:
        yield running


@pytest.fixture
def user(backend: SandpitServer, proxy: Proxy) -> Iterator[User]:
    """A user of the backend whose client goes through the proxy."""
    signed_in = User(backend)
    signed_in.client.close()
    signed_in.client = proxy.client(headers={"Authorization": f"Bearer {signed_in.token}"})
    yield signed_in
    signed_in.client.close()


def test_terminal_echo_and_a_flood_stopped_with_ctrl_c(proxy: Proxy, user: User) -> None:
    workspace = user.workspace()
    terminal_id = user.client.post(f"/api/workspaces/{workspace}/terminals").json()["id"]
    with TerminalClient(proxy, user.token, workspace, terminal_id, ssl=proxy.tls) as shell:
        shell.read_until(r"\$ ")
        assert shell.run("echo through-$((40+2))") == "through-42\r\n"
        shell.send("yes\r")
        shell.read_until("(y\r\n){100}")
        while shell.received < 2 * MiB:
            shell.read_until("y\r\n")
        at_interrupt = shell.received
        shell.send("\x03")
        shell.read_until(r"\$ ", timeout=15)
        assert shell.run("echo stopped-$((6*7))") == "stopped-42\r\n"
        # Flow control still works through the proxy: no megabytes in flight.
        assert shell.received - at_interrupt < 4 * MiB


def test_run_output_streams_while_the_run_waits(user: User) -> None:
    workspace = user.workspace()
    started = user.client.post(
        f"/api/workspaces/{workspace}/runs",
        json={"code": "print('first', flush=True)\nname = input()\nprint('hello', name)",
              "interactive": True},
    )  # fmt: skip
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    with follow(user.client, run_id) as events:
        # The run cannot end before it gets input: this event came unbuffered.
        events.read_until(output_contains("first"))
        sent = user.client.post(f"/api/runs/{run_id}/stdin", json={"text": "proxy\n"})
        assert sent.status_code == 204, sent.text
        run = events.read_to_end()
    assert run["status"] == "ok"
    assert "hello proxy" in events.output("stdout")


def test_upload_of_one_mib_and_the_body_cap(user: User) -> None:
    workspace = user.workspace()
    body = (b"0123456789abcde\n" * (MiB // 16))[:MiB]
    put = user.client.put(f"/api/workspaces/{workspace}/files/big.txt", content=body)
    assert put.status_code == 201, put.text
    assert user.client.get(f"/api/workspaces/{workspace}/files/big.txt").content == body
    too_big = user.client.put(f"/api/workspaces/{workspace}/files/huge.txt", content=body * 3)
    assert too_big.status_code == 413
    assert "detail" in too_big.json()


def test_sign_in_sets_a_secure_cookie_and_the_origin_check_holds(proxy: Proxy, user: User) -> None:
    with proxy.client() as browser:
        login = browser.post(
            "/api/auth/login", json={"username": user.username, "password": user.password}
        )
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie
        assert "httponly" in cookie
        assert login.headers["strict-transport-security"].startswith("max-age=31536000")
        assert browser.get("/api/auth/me").json()["username"] == user.username
        same_site = browser.post(
            "/api/workspaces", json={"name": "from the page"}, headers={"Origin": proxy.url}
        )
        assert same_site.status_code == 201, same_site.text
        forged = browser.post(
            "/api/workspaces",
            json={"name": "from elsewhere"},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403


def _failed_logins(client: httpx.Client, count: int, forged: bool) -> list[int]:
    """Status codes of `count` failed sign-ins, each with a new forged X-Forwarded-For."""
    codes = []
    for n in range(count):
        headers = {"X-Forwarded-For": f"198.51.100.{n + 1}"} if forged else {}
        answer = client.post(
            "/api/auth/login",
            json={"username": f"nobody{n}", "password": "wrong password"},
            headers=headers,
        )
        codes.append(answer.status_code)
    return codes


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_rate_limits_key_on_the_forwarded_address(kind: str) -> None:
    server = SandpitServer(**PROXY_SETTINGS, login_attempts_per_address="3")
    server.start()
    try:
        with running_proxy(kind, server.port) as proxy:
            # Through the proxy from 127.0.0.2: forged headers do not spread the count.
            with proxy.client(
                transport=httpx.HTTPTransport(local_address="127.0.0.2", verify=proxy.tls)
            ) as first:
                assert _failed_logins(first, 4, forged=True) == [401, 401, 401, 429]
            # Another client address (127.0.0.3) through the same proxy has its own count.
            with proxy.client(
                transport=httpx.HTTPTransport(local_address="127.0.0.3", verify=proxy.tls)
            ) as second:
                assert _failed_logins(second, 1, forged=True) == [401]
        # Straight to the server from 127.0.0.4, not a trusted proxy: the forged
        # X-Forwarded-For is ignored, and the count is the peer's own.
        direct = httpx.HTTPTransport(local_address="127.0.0.4")
        with httpx.Client(base_url=server.url, transport=direct, timeout=30) as outsider:
            assert _failed_logins(outsider, 4, forged=True) == [401, 401, 401, 429]
        # From the trusted proxy's address, the forwarded address is the key.
        with httpx.Client(base_url=server.url, timeout=30) as trusted:
            codes = [
                trusted.post(
                    "/api/auth/login",
                    json={"username": "nobody", "password": "wrong password"},
                    headers={"X-Forwarded-For": address},
                ).status_code
                for address in ("203.0.113.9",) * 4 + ("203.0.113.10",)
            ]
        assert codes == [401, 401, 401, 429, 401]
    finally:
        server.close()


@pytest.mark.parametrize("kind", ["nginx", "caddy"])
def test_a_body_declared_over_the_cap_is_refused_by_the_proxy_itself(
    kind: str, tmp_path: Path
) -> None:
    # Behind the proxy, a static file server that answers 501 to any PUT: a
    # 413 can only be the proxy's own, given before any of the body is passed
    # on (Caddy's max_size alone stops a body already on its way, with a 502).
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "health").write_text("ok")
    port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with running_proxy(kind, port) as proxy, proxy.client() as client:
            refused = client.put("/api/workspaces/w/files/huge.txt", content=b"x" * (3 * MiB))
            assert refused.status_code == 413, refused.text
            if kind == "caddy":  # as the API words it (nginx answers its own page)
                assert "byte limit" in refused.json()["detail"]
            passed_on = client.put("/api/workspaces/w/files/small.txt", content=b"x")
            assert passed_on.status_code == 501, passed_on.text
    finally:
        upstream.terminate()
        upstream.wait()
