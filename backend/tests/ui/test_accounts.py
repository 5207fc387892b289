"""Accounts in the browser: deleting one's account behind a password confirmation,
and signing up with an invitation code on a server whose sign-up is closed."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect

from sandpit.config import REPO_DIR
from tests.servers import SandpitServer
from tests.ui.conftest import PASSWORD, Ide, new_context


def test_deleting_the_account_asks_the_password_and_leaves_nothing(
    ide: Ide, ui_server: SandpitServer
) -> None:
    ide.put_file("main.py", "print('hi')\n")
    page = ide.page
    page.goto(f"{ui_server.url}/")
    page.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    expect(dialog).to_be_visible()

    dialog.get_by_role("button", name="Delete account").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Enter your password")
    dialog.get_by_label("Your password").fill("not my password")
    dialog.get_by_role("button", name="Delete account").click()
    expect(dialog.get_by_role("alert")).to_contain_text("password is wrong")
    assert (ui_server.data_dir / "workspaces" / ide.workspace_id).exists()

    dialog.get_by_label("Your password").fill(PASSWORD)
    dialog.get_by_role("button", name="Delete account").click()
    page.wait_for_url("**/login/")
    assert not list(ui_server.data_dir.rglob(f"*{ide.workspace_id}*"))
    assert ide.context.request.get(f"{ui_server.url}/api/auth/me").status == 401


@pytest.fixture(scope="module")
def closed_server() -> Iterator[SandpitServer]:
    if not (REPO_DIR / "frontend" / "out" / "index.html").is_file():
        pytest.fail("The web app is not built: `cd frontend && npm run build` (make test does).")
    server = SandpitServer(signup_open="false")
    server.start()
    yield server
    server.close()


def invitation_code(server: SandpitServer) -> str:
    admin = f"adm{uuid.uuid4().hex[:8]}"
    subprocess.run(
        [sys.executable, "-m", "sandpit", "user", "create", admin, "--role", "admin",
         "--password-stdin"],
        input=PASSWORD + "\n", env=server.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    with httpx.Client(base_url=server.url, timeout=30) as client:
        token = client.post(
            "/api/auth/login", json={"username": admin, "password": PASSWORD}
        ).json()["access_token"]
        client.cookies.clear()
        made = client.post(
            "/api/admin/invitations", json={"uses": 1}, headers={"Authorization": f"Bearer {token}"}
        )
        assert made.status_code == 201, made.text
        code: str = made.json()["code"]
        return code


def test_closed_sign_up_takes_an_invitation_code(
    closed_server: SandpitServer, browser: Browser
) -> None:
    code = invitation_code(closed_server)
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{closed_server.url}/register/")
        field = page.get_by_label("Invitation code", exact=True)
        expect(field).to_be_visible()
        page.get_by_label("Username").fill(f"s{uuid.uuid4().hex[:10]}")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Confirm password").fill(PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("Sign-up is closed: enter your invitation code.")).to_be_visible()

        field.fill("not-a-code")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_text("This invitation code is not valid")).to_be_visible()

        field.fill(code)
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Your workspaces")).to_be_visible()
    finally:
        context.close()
