"""Health and auth rows of CONTRACT.md, through HTTP against a real server."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import User
from tests.servers import SandpitServer


def test_health(anon: httpx.Client) -> None:
    response = anon.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_document_is_published(anon: httpx.Client) -> None:
    document = anon.get("/api/openapi.json").json()
    assert "/api/auth/login" in document["paths"]
    assert "/api/workspaces/{workspace_id}/files/{path}" in document["paths"]


def test_register_login_me(anon: httpx.Client) -> None:
    name = f"ada_{uuid.uuid4().hex[:8]}"
    registered = anon.post("/api/auth/register", json={"username": name, "password": "pa55word!"})
    assert registered.status_code == 201
    body = registered.json()
    assert body["username"] == name
    assert set(body) >= {"id", "username"}

    login = anon.post("/api/auth/login", json={"username": name, "password": "pa55word!"})
    assert login.status_code == 200
    token = login.json()
    assert token["token_type"] == "bearer"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie

    anon.cookies.clear()
    me = anon.get("/api/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"id": body["id"], "username": name, "role": "user"}


def test_cookie_session_and_logout(server: SandpitServer) -> None:
    name = f"c_{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=server.url) as browser:
        browser.post("/api/auth/register", json={"username": name, "password": "pa55word!"})
        browser.post("/api/auth/login", json={"username": name, "password": "pa55word!"})
        assert browser.get("/api/auth/me").json()["username"] == name
        # The page's hint that a session is there (no proof: the session cookie decides).
        assert browser.cookies.get("sandpit_signed_in") == "1"
        assert browser.post("/api/auth/logout").status_code == 204
        assert browser.get("/api/auth/me").status_code == 401
        assert browser.cookies.get("sandpit_signed_in") is None


def test_cookie_refused_from_another_origin(user: User, server: SandpitServer) -> None:
    with httpx.Client(base_url=server.url) as browser:
        browser.post("/api/auth/login", json={"username": user.username, "password": user.password})
        evil = browser.post(
            "/api/workspaces", json={"name": "x"}, headers={"Origin": "https://evil.example"}
        )
        assert evil.status_code == 403
        assert "another site" in evil.json()["detail"]
        same = browser.post("/api/workspaces", json={"name": "x"}, headers={"Origin": server.url})
        assert same.status_code == 201


def test_cookie_refused_from_our_host_on_another_scheme_or_port(
    user: User, server: SandpitServer
) -> None:
    # server.url is http://127.0.0.1:<port>: the same host over https, or on
    # another port, is another origin (RFC 6454), and is refused.
    port = int(server.url.rsplit(":", 1)[1])
    with httpx.Client(base_url=server.url) as browser:
        browser.post("/api/auth/login", json={"username": user.username, "password": user.password})
        for origin in (f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}", "null"):
            refused = browser.post(
                "/api/workspaces", json={"name": "x"}, headers={"Origin": origin}
            )
            assert refused.status_code == 403, origin
        same = browser.post(
            "/api/workspaces", json={"name": "y"}, headers={"Origin": f"http://127.0.0.1:{port}/"}
        )
        assert same.status_code == 201


def test_register_name_taken(user: User, anon: httpx.Client) -> None:
    again = anon.post(
        "/api/auth/register", json={"username": user.username, "password": "another-password"}
    )
    assert again.status_code == 409
    assert user.username in again.json()["detail"]


@pytest.mark.parametrize(
    ("username", "password", "word"),
    [
        ("ab", "long-enough", "username"),
        ("x" * 33, "long-enough", "username"),
        ("Upper", "long-enough", "username"),
        ("spa ce", "long-enough", "username"),
        ("dot.ted", "long-enough", "username"),
        ("fine_name", "short", "password"),
        ("fine_name", "x" * 129, "password"),
    ],
)
def test_register_invalid(anon: httpx.Client, username: str, password: str, word: str) -> None:
    response = anon.post("/api/auth/register", json={"username": username, "password": password})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert word in detail.lower()
    assert detail.endswith(".")


def test_register_missing_field_is_a_sentence(anon: httpx.Client) -> None:
    response = anon.post("/api/auth/register", json={"username": "someone"})
    assert response.status_code == 422
    assert "password" in response.json()["detail"]


def test_register_accepts_boundary_lengths(anon: httpx.Client) -> None:
    name = ("b" + uuid.uuid4().hex)[:32]
    ok = anon.post("/api/auth/register", json={"username": name, "password": "x" * 8})
    assert ok.status_code == 201
    # Only this test makes 3-character names, once per fresh database.
    short = "c" + uuid.uuid4().hex[:2]
    response = anon.post("/api/auth/register", json={"username": short, "password": "y" * 128})
    assert response.status_code == 201


def test_login_wrong_password(user: User, anon: httpx.Client) -> None:
    response = anon.post(
        "/api/auth/login", json={"username": user.username, "password": "wrong password"}
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "The username or password is wrong."


def test_login_unknown_user(anon: httpx.Client) -> None:
    response = anon.post(
        "/api/auth/login", json={"username": "nobody-here", "password": "whatever1"}
    )
    assert response.status_code == 401


def test_failed_sign_ins_hold_back_that_address_for_that_account(
    user: User, anon: httpx.Client
) -> None:
    # Defaults: five failures are free, then the (account, address) pair waits.
    statuses = [
        anon.post(
            "/api/auth/login", json={"username": user.username, "password": f"wrong-{i}-pass"}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:6] == [401] * 6
    assert statuses[6] == 429
    # Even the right password is refused from this address while it waits.
    blocked = anon.post(
        "/api/auth/login", json={"username": user.username, "password": user.password}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) >= 1
    assert "try again" in blocked.json()["detail"]


def test_me_without_token(anon: httpx.Client) -> None:
    response = anon.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "Please sign in first."


@pytest.mark.parametrize(
    "header", ["Bearer not-a-jwt", "Basic abc", "Bearer", "Bearer eyJhbGciOiJub25lIn0.e30."]
)
def test_me_with_bad_token(anon: httpx.Client, header: str) -> None:
    response = anon.get("/api/auth/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"].endswith(".")


def test_unknown_api_path_is_json_404(anon: httpx.Client) -> None:
    response = anon.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.json()["detail"] == "There is no API endpoint at this address."


def test_oversized_body_refused(anon: httpx.Client) -> None:
    response = anon.post(
        "/api/auth/register",
        content=b'{"username": "' + b"a" * (3 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
