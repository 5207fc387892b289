"""Terminals through the REST API and the socket's refusals; lifetime; the command log."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import httpx

from tests.conftest import User
from tests.servers import SandpitServer
from tests.terminals.client import TerminalClient
from tests.terminals.conftest import Terminals


def test_create_list_delete(terminals: Terminals, user: User) -> None:
    base = f"/api/workspaces/{terminals.workspace}/terminals"
    created = user.client.post(base, json={"cols": 120, "rows": 40})
    assert created.status_code == 201
    body = created.json()
    assert (body["exited"], body["cols"], body["rows"], body["clients"]) == (False, 120, 40, 0)
    listed = user.client.get(base).json()
    assert [t["id"] for t in listed] == [body["id"]]
    assert user.client.get(f"{base}/{body['id']}").json()["id"] == body["id"]
    assert user.client.delete(f"{base}/{body['id']}").status_code == 204
    assert user.client.get(base).json() == []
    assert user.client.delete(f"{base}/{body['id']}").status_code == 404
    assert user.client.post(base, json={"cols": 0}).status_code == 422


def test_delete_kills_everything_the_terminal_started(terminals: Terminals, user: User) -> None:
    terminal_id = terminals.create()
    doomed = terminals.attach(terminal_id)
    doomed.read_until(r"\$ ")
    doomed.run("(sleep 1000 &) ; sleep 1001 & echo started")
    watcher = terminals.shell()
    assert "sleep 1000" in watcher.run("ps -eo args")
    response = user.client.delete(f"/api/workspaces/{terminals.workspace}/terminals/{terminal_id}")
    assert response.status_code == 204
    assert doomed.read_control("exit")["code"] == 128 + 9
    closed = doomed.read_close()
    assert (closed.code, closed.reason) == (1000, "The terminal was closed.")
    deadline = time.monotonic() + 10
    while "sleep 100" in watcher.run("ps -eo args"):
        assert time.monotonic() < deadline, "the terminal's processes outlived it"
        time.sleep(0.2)


def test_terminals_per_workspace_are_capped(terminals: Terminals, user: User) -> None:
    base = f"/api/workspaces/{terminals.workspace}/terminals"
    ids = [terminals.create() for _ in range(8)]
    refused = user.client.post(base)
    assert refused.status_code == 429
    assert "8 terminals" in refused.json()["detail"]
    assert "Retry-After" in refused.headers
    assert user.client.delete(f"{base}/{ids[0]}").status_code == 204
    terminals.create()


def test_windows_per_terminal_are_capped_and_the_refusal_is_recorded(
    server: SandpitServer, terminals: Terminals, user: User, other_user: User
) -> None:
    terminal_id = terminals.create()
    for _ in range(8):
        terminals.attach(terminal_id).read_until(r"\$ ")  # attached for sure
    extra = terminals.attach(terminal_id)
    closed = extra.read_close()
    sentence = "8 windows are already attached to this terminal; close one first."
    assert (closed.code, closed.reason) == (4429, sentence)

    # Logged and counted like an HTTP 429: under the socket's route template,
    # with the user who was refused.
    make_admin(server, other_user)
    route = "/api/workspaces/{workspace_id}/terminals/{terminal_id}/ws"
    admission = other_user.client.get(
        "/api/admin/admission", params={"status": 429, "user_id": user.id}
    )
    assert admission.status_code == 200
    logged = [r for r in admission.json()["refusals"] if r["route"] == route]
    assert [(r["username"], r["detail"]) for r in logged] == [(user.username, sentence)]
    metrics = other_user.client.get("/metrics").text
    assert f'sandpit_refusals_total{{route="{route}",status="429"}}' in metrics


def test_sandbox_end_ends_its_terminals_with_a_message(terminals: Terminals, user: User) -> None:
    shell = terminals.shell()
    shell.run("touch /tmp/from-the-old-sandbox")
    assert user.client.delete(f"/api/workspaces/{terminals.workspace}/sandbox").status_code == 204
    shell.read_until(r"\[sandbox ended: it was stopped\]")
    ended = shell.read_control("ended")
    assert ended["reason"] == "stopped"
    assert ended["message"] == "The sandbox was stopped."
    assert "code" in shell.read_control("exit")
    closed = shell.read_close()
    assert (closed.code, closed.reason) == (1000, "The sandbox has ended.")
    listed = user.client.get(f"/api/workspaces/{terminals.workspace}/terminals").json()
    assert [(t["exited"], t["ended"]) for t in listed] == [(True, "stopped")]
    # A new terminal starts a fresh sandbox.
    fresh = terminals.shell()
    assert fresh.run("ls /tmp/from-the-old-sandbox 2>/dev/null || echo gone") == "gone\r\n"


def test_other_users_terminal_does_not_exist_for_them(
    server: SandpitServer, terminals: Terminals, other_user: User
) -> None:
    terminal_id = terminals.create()
    base = f"/api/workspaces/{terminals.workspace}/terminals"
    assert other_user.client.get(base).status_code == 404
    assert other_user.client.post(base).status_code == 404
    assert other_user.client.delete(f"{base}/{terminal_id}").status_code == 404
    foreign = TerminalClient(server, other_user.token, terminals.workspace, terminal_id)
    closed = foreign.read_close()
    assert (closed.code, closed.reason) == (4404, "There is no such terminal.")
    assert foreign.output == b""
    # Their own workspace with our terminal's id: still nothing.
    theirs = other_user.workspace()
    assert TerminalClient(server, other_user.token, theirs, terminal_id).read_close().code == 4404


def test_socket_authentication(server: SandpitServer, terminals: Terminals) -> None:
    terminal_id = terminals.create()
    workspace, token = terminals.workspace, terminals.user.token
    anonymous = TerminalClient(server, None, workspace, terminal_id)
    assert anonymous.read_close().code == 4401
    forged = TerminalClient(server, "not-a-token", workspace, terminal_id)
    assert forged.read_close().code == 4401
    cookie = {"Cookie": f"sandpit_session={token}"}
    cross_site = TerminalClient(
        server, None, workspace, terminal_id, headers=cookie, origin="https://evil.example"
    )
    assert cross_site.read_close().code == 4403
    # Our host over another scheme or on another port is another origin.
    port = int(server.url.rsplit(":", 1)[1])
    for origin in (f"https://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"):
        other_origin = TerminalClient(
            server, None, workspace, terminal_id, headers=cookie, origin=origin
        )
        assert other_origin.read_close().code == 4403, origin
    same_site = TerminalClient(
        server, None, workspace, terminal_id, headers=cookie, origin=server.url
    )
    with same_site:
        same_site.read_until(r"\$ ")


def make_admin(server: SandpitServer, user: User) -> None:
    subprocess.run(
        [sys.executable, "-m", "sandpit", "user", "set-role", user.username, "admin"],
        env=server.env,
        check=True,
        capture_output=True,
    )


def test_admins_read_the_command_log(
    server: SandpitServer, terminals: Terminals, user: User, other_user: User
) -> None:
    shell = terminals.shell()
    shell.run("echo logged-$((1+1))")
    shell.send("ls -l\r")
    shell.read_until(r"total \d+")
    # A password prompt (echo off): what is typed there is not recorded.
    # (Echo goes off before the prompt shows: `read -s` prints its prompt first.)
    shell.send("stty -echo; printf 'pass''word: '; read -r secret; stty echo\r")
    shell.read_until("password: ")
    shell.send("hunter2-not-recorded\r")
    shell.read_until(r"\$ ")  # the prompt: the terminal echoes again
    shell.run("echo after-the-password")

    assert user.client.get("/api/admin/command-log").status_code == 403
    make_admin(server, other_user)
    admin = other_user.client
    page = admin.get("/api/admin/command-log", params={"workspace_id": terminals.workspace})
    assert page.status_code == 200
    entries = page.json()["entries"]
    commands = [e["command"] for e in entries]
    assert any("echo logged-$((1+1))" in c for c in commands)
    assert "ls -l" in commands
    assert "stty -echo; printf 'pass''word: '; read -r secret; stty echo" in commands
    assert not any("hunter2" in c for c in commands), commands
    newest = entries[0]
    assert newest["username"] == user.username
    assert newest["user_id"] == user.id
    assert "after-the-password" in newest["command"], commands
    # Filters and pages, newest first.
    by_name = admin.get("/api/admin/command-log", params={"username": user.username}).json()
    assert [e["id"] for e in by_name["entries"]] == [e["id"] for e in entries]
    first = admin.get("/api/admin/command-log", params={"user_id": user.id, "limit": 1}).json()
    assert [e["id"] for e in first["entries"]] == [newest["id"]]
    second = admin.get(
        "/api/admin/command-log",
        params={"user_id": user.id, "limit": 1, "before": first["next_before"]},
    ).json()
    assert [e["id"] for e in second["entries"]] == [entries[1]["id"]]
    nobody = admin.get("/api/admin/command-log", params={"username": "nobody-at-all"}).json()
    assert nobody == {"entries": [], "next_before": None}


def test_command_log_needs_a_signed_in_user(anon: httpx.Client) -> None:
    assert anon.get("/api/admin/command-log").status_code == 401


def test_a_terminal_nobody_attaches_to_is_culled_after_its_grace_period(
    make_user: Callable[[SandpitServer], User],
) -> None:
    server = SandpitServer(terminal_grace_s="1")
    server.start()
    try:
        owner = make_user(server)
        workspace = owner.workspace()
        base = f"/api/workspaces/{workspace}/terminals"
        watched = owner.client.post(base).json()["id"]
        never_attached = owner.client.post(base).json()["id"]
        with TerminalClient(server, owner.token, workspace, watched) as client:
            client.read_until(r"\$ ")
            time.sleep(2.5)  # past the grace period, while attached
            assert [t["id"] for t in owner.client.get(base).json()] == [watched]
            assert client.run("echo alive") == "alive\r\n"
        deadline = time.monotonic() + 10
        while owner.client.get(base).json():
            assert time.monotonic() < deadline, "a detached terminal outlived its grace period"
            time.sleep(0.2)
        assert owner.client.delete(f"{base}/{never_attached}").status_code == 404
    finally:
        server.close()
