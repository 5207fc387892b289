"""The IDE when the server refuses a sandbox, and the administrators' view, in Chromium.

A full server: the IDE says "The server is full, retrying in N s" and, once
another user's memory is freed, starts the run by itself. The cap on a
user's sandboxes: the IDE lists them and stops the one chosen, asking again
before it stops a busy one. The admin view lists a live sandbox and stops it.
The server has a small memory budget, so one sandbox holding 200 MiB fills it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import User
from tests.servers import SandpitServer
from tests.terminals.test_api import make_admin
from tests.ui.conftest import signed_in

HOLD = (
    "b = bytearray(200 * 1024 * 1024)\n"
    "for i in range(0, len(b), 4096): b[i] = 1\n"
    "print('held', flush=True)\nimport time; time.sleep(300)"
)


@pytest.fixture(scope="module")
def small_server() -> Iterator[SandpitServer]:
    # A budget of about three idle sandboxes. Without warm interpreters: each
    # holds ~100 MiB once a run has ended, which would fill it after the first runs.
    server = SandpitServer(
        sandboxes_memory_mb="256",
        sandbox_start_reserve_mb="80",
        admission_retry_s="2",
        warm_interpreter="false",
    )
    server.start()
    yield server
    server.close()


def wait_until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def hold_memory(user: User) -> str:
    """A run in the user's own workspace that holds 200 MiB until stopped; its id."""
    workspace = user.workspace("holder")
    started = user.client.post(f"/api/workspaces/{workspace}/runs", json={"code": HOLD})
    assert started.status_code == 202, started.text
    run_id: str = started.json()["id"]
    wait_until(
        lambda: "held" in user.client.get(f"/api/runs/{run_id}").json()["stdout"], "the hold"
    )
    return run_id


def test_a_full_server_says_so_and_runs_by_itself_when_room_frees(
    small_server: SandpitServer, browser: Browser, make_user: Callable[[SandpitServer], User]
) -> None:
    holder = make_user(small_server)
    run_id = hold_memory(holder)
    with signed_in(small_server, browser, "waiting") as ide:
        ide.put_file("main.py", "print('admitted at last')\n")
        ide.open_workspace()
        ide.open_file("main.py")
        ide.page.get_by_role("button", name="Run", exact=True).click()
        notice = ide.page.get_by_test_id("server-full")
        expect(notice).to_have_text(re.compile(r"The server is full, retrying in \d+ s\."))
        assert holder.client.post(f"/api/runs/{run_id}/stop").status_code == 200
        block = ide.page.get_by_test_id("run").last
        expect(block).to_have_attribute("data-status", "ok", timeout=30_000)
        expect(block).to_contain_text("admitted at last")
        expect(notice).to_have_count(0)


def test_at_the_cap_the_ide_stops_the_sandbox_chosen_asking_first_if_busy(
    small_server: SandpitServer, browser: Browser
) -> None:
    with signed_in(small_server, browser, "fourth") as ide:
        fourth = ide.workspace_id
        busy = ide.create_workspace("busy-one")
        ide.api(
            "POST", f"/api/workspaces/{busy}/runs", data={"code": "import time; time.sleep(300)"}
        )
        for name in ("idle-a", "idle-b"):
            ide.api("POST", f"/api/workspaces/{ide.create_workspace(name)}/terminals", data={})
        wait_until(lambda: len(ide.api("GET", "/api/sandboxes")) == 3, "three sandboxes to run")
        ide.workspace_id = fourth
        ide.put_file("main.py", "print('in the fourth')\n")
        # Closed terminal panel: the run is what asks for the sandbox.
        ide.api(
            "PATCH",
            f"/api/workspaces/{fourth}",
            data={"ui_state": {"layout": {"terminalOpen": False}}},
        )
        ide.open_workspace()
        ide.open_file("main.py")
        ide.page.get_by_role("button", name="Run", exact=True).click()

        dialog = ide.page.get_by_test_id("sandbox-cap")
        expect(dialog).to_contain_text("You already have 3 sandboxes running")
        for name in ("busy-one", "idle-a", "idle-b"):
            expect(dialog).to_contain_text(name)
        expect(dialog).to_contain_text("a run is running")
        stop_busy = dialog.get_by_role("button", name="Stop the sandbox of busy-one")
        stop_busy.click()
        # Busy: a second, explicit word is needed.
        expect(dialog).to_contain_text("Stop it anyway?")
        assert len(ide.api("GET", "/api/sandboxes")) == 3
        expect(stop_busy).to_have_text("Stop anyway")
        stop_busy.click()

        block = ide.page.get_by_test_id("run").last
        expect(block).to_have_attribute("data-status", "ok", timeout=30_000)
        expect(block).to_contain_text("in the fourth")
        names = sorted(s["workspace_name"] for s in ide.api("GET", "/api/sandboxes"))
        assert names == ["fourth", "idle-a", "idle-b"]


def test_the_admin_view_lists_a_live_sandbox_and_stops_it(
    small_server: SandpitServer, browser: Browser, make_user: Callable[[SandpitServer], User]
) -> None:
    student = make_user(small_server)
    workspace = student.workspace("lab-3")
    assert student.client.post(f"/api/workspaces/{workspace}/terminals", json={}).status_code == 201
    with signed_in(small_server, browser, "admin-ws") as admin:
        make_admin(small_server, _AsUser(admin.username))
        admin.page.goto(f"{small_server.url}/admin/")
        table = admin.page.get_by_test_id("admin-sandboxes")
        row = table.get_by_role("row").filter(has_text=student.username)
        expect(row).to_contain_text("lab-3")
        row.get_by_role("button", name=re.compile("Stop the sandbox")).click()
        admin.page.get_by_role("dialog").get_by_role("button", name="Stop", exact=True).click()
        expect(row).to_have_count(0)
        sandbox = student.client.get(f"/api/workspaces/{workspace}/sandbox").json()
        assert sandbox["running"] is False
        expect(admin.page.get_by_test_id("admin-users")).to_contain_text(student.username)


class _AsUser:
    """What `make_admin` needs of a user: the name."""

    def __init__(self, username: str) -> None:
        self.username = username
