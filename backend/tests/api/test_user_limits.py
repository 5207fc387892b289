"""Limits between users, through the API on a real server with real sandboxes.

Every limit is hit for real and checked for its status, its `Retry-After`,
its sentence, and that it lets go again once the user frees what it
counts (stops a sandbox, a run, a terminal) or the host has room again.
The rate windows (starts and runs per minute) are checked to reset with a
fake clock in tests/sandbox/test_admission.py: waiting a real minute here
would say nothing more. `/metrics` and the admin API are here too, since
they report these limits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import User
from tests.servers import SandpitServer
from tests.terminals.test_api import make_admin

LONG_RUN = "import time\nprint('up', flush=True)\ntime.sleep(120)"


@pytest.fixture(scope="module")
def capped() -> Iterator[SandpitServer]:
    """Small per-user caps, so each can be reached with a few sandboxes."""
    instance = SandpitServer(
        sandboxes_per_user="2",
        sandbox_starts_per_minute="50",
        concurrent_runs_per_user="2",
        terminals_per_user="3",
        metrics_token="scrape-token-for-tests",
    )
    instance.start()
    yield instance
    instance.close()


def until(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_sandbox(user: User, workspace: str) -> httpx.Response:
    """Start the workspace's sandbox the way a terminal does (synchronously)."""
    return user.client.post(f"/api/workspaces/{workspace}/terminals", json={})


def long_run(user: User, workspace: str) -> str:
    started = user.client.post(f"/api/workspaces/{workspace}/runs", json={"code": LONG_RUN})
    assert started.status_code == 202, started.text
    run_id: str = started.json()["id"]
    until(lambda: "up" in user.client.get(f"/api/runs/{run_id}").json()["stdout"], "the run")
    return run_id


def test_the_cap_on_sandboxes_names_them_and_lets_go_when_one_stops(
    capped: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    user = make_user(capped)
    first, second, third = (user.workspace(name) for name in ("first", "second", "third"))
    assert start_sandbox(user, first).status_code == 201
    assert start_sandbox(user, second).status_code == 201
    run_id = long_run(user, first)

    refused = start_sandbox(user, third)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "10"
    body = refused.json()
    assert body["detail"] == (
        "You already have 2 sandboxes running, the most one user may have at once; "
        "stop one of them to start another."
    )
    assert body["sandboxes"] == [
        {"workspace_id": first, "busy": True},
        {"workspace_id": second, "busy": False},
    ]
    # A run needs a sandbox too: refused with the same answer, before any run is recorded.
    run = user.client.post(f"/api/workspaces/{third}/runs", json={"code": "print(1)"})
    assert (run.status_code, run.json()["detail"]) == (429, body["detail"])
    assert user.client.get(f"/api/workspaces/{third}/runs").json() == []

    mine = user.client.get("/api/sandboxes").json()
    assert [(s["workspace_name"], s["busy"], s["runs"]) for s in mine] == [
        ("first", True, 1),
        ("second", False, 0),
    ]
    assert mine[1]["terminals"] == 1
    assert mine[1]["attached_terminals"] == 0
    assert all(s["memory_bytes"] > 0 and s["pids"] > 0 for s in mine)

    # Another user is not held back by this one's cap.
    other = make_user(capped)
    assert start_sandbox(other, other.workspace()).status_code == 201

    # The limit resets: one stopped, the third starts.
    assert user.client.delete(f"/api/workspaces/{second}/sandbox").status_code == 204
    assert start_sandbox(user, third).status_code == 201
    assert user.client.post(f"/api/runs/{run_id}/stop").status_code == 200


def test_concurrent_runs_per_user_over_all_workspaces(
    capped: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    user = make_user(capped)
    one, two = user.workspace("one"), user.workspace("two")
    first = long_run(user, one)
    long_run(user, two)
    refused = user.client.post(f"/api/workspaces/{one}/runs", json={"code": "print(1)"})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["detail"] == (
        "You already have 2 runs running, the most one user may have at once; "
        "wait for one to finish or stop it."
    )
    assert user.client.post(f"/api/runs/{first}/stop").status_code == 200
    again = user.client.post(f"/api/workspaces/{one}/runs?wait=true", json={"code": "print(7)"})
    assert again.status_code == 200, again.text
    assert again.json()["stdout"] == "7\n"


def test_terminals_per_user_over_all_workspaces(
    capped: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    user = make_user(capped)
    one, two = user.workspace("one"), user.workspace("two")
    opened = [start_sandbox(user, w) for w in (one, one, two)]
    assert [r.status_code for r in opened] == [201, 201, 201]
    refused = start_sandbox(user, two)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "5"
    assert refused.json()["detail"] == (
        "You already have 3 terminals open, the most one user may have at once; "
        "close one to open another."
    )
    terminal = opened[0].json()["id"]
    assert user.client.delete(f"/api/workspaces/{one}/terminals/{terminal}").status_code == 204
    assert start_sandbox(user, two).status_code == 201


def test_the_limits_are_published(
    capped: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    limits = make_user(capped).client.get("/api/limits").json()
    assert limits["users"] == {
        "sandboxes": 2,
        "sandbox_starts_per_minute": 50,
        "runs_per_minute": 60,
        "concurrent_runs": 2,
        "terminals": 3,
    }


def test_sandbox_starts_per_minute(make_user: Callable[[SandpitServer], User]) -> None:
    instance = SandpitServer(sandbox_starts_per_minute="2")
    instance.start()
    try:
        user = make_user(instance)
        workspace = user.workspace()
        for _ in range(2):
            assert start_sandbox(user, workspace).status_code == 201
            assert user.client.delete(f"/api/workspaces/{workspace}/sandbox").status_code == 204
        refused = start_sandbox(user, workspace)
        assert refused.status_code == 429
        seconds = int(refused.headers["Retry-After"])
        assert 1 <= seconds <= 60
        assert refused.json()["detail"] == (
            f"Too many sandbox starts in a minute (at most 2); try again in {seconds} seconds."
        )
        # Another user has their own count.
        other = make_user(instance)
        assert start_sandbox(other, other.workspace()).status_code == 201
    finally:
        instance.close()


def test_a_full_host_answers_503_and_admits_again_when_memory_frees(
    make_user: Callable[[SandpitServer], User],
) -> None:
    # Room for one sandbox holding ~200 MiB and no more: the budget is what
    # the sandboxes hold now, plus a reserve for the one starting.
    instance = SandpitServer(sandboxes_memory_mb="256", sandbox_start_reserve_mb="80")
    instance.start()
    try:
        holder, bystander = make_user(instance), make_user(instance)
        make_admin(instance, bystander)
        workspace = holder.workspace()
        started = holder.client.post(
            f"/api/workspaces/{workspace}/runs",
            json={
                "code": "b = bytearray(200 * 1024 * 1024)\n"
                "for i in range(0, len(b), 4096): b[i] = 1\n"
                "print('held', flush=True)\nimport time; time.sleep(120)"
            },
        )
        run_id = started.json()["id"]
        until(
            lambda: "held" in holder.client.get(f"/api/runs/{run_id}").json()["stdout"],
            "the memory to be held",
        )
        # The kernel's memory statistics can trail the pages just touched by
        # a second or two (their flush is rate-limited): wait for them, as
        # admission itself would see them on its next check.
        until(
            lambda: admission_state(bystander)["memory_in_use_bytes"] >= 200 * 2**20,
            "the held memory to show in the host's statistics",
        )
        assert admission_state(bystander)["memory_budget_bytes"] == 256 * 2**20

        waiting = bystander.workspace()
        full = start_sandbox(bystander, waiting)
        assert full.status_code == 503
        assert full.headers["Retry-After"] == "10"
        assert full.json()["detail"] == (
            "The server is full: every sandbox it has room for is in use. Try again in 10 seconds."
        )
        refusals = bystander.client.get("/api/admin/admission", params={"status": 503}).json()
        assert refusals["refusals"][0]["route"] == "/api/workspaces/{workspace_id}/terminals"
        assert refusals["refusals"][0]["username"] == bystander.username

        assert holder.client.post(f"/api/runs/{run_id}/stop").status_code == 200
        until(
            lambda: start_sandbox(bystander, waiting).status_code == 201,
            "the host to admit a sandbox again",
        )
    finally:
        instance.close()


def test_cpu_is_shared_per_user_not_per_sandbox(
    make_user: Callable[[SandpitServer], User],
) -> None:
    instance = SandpitServer()
    instance.start()
    try:
        many, one = make_user(instance), make_user(instance)
        workspaces = [many.workspace(f"w{i}") for i in range(3)]
        for workspace in workspaces:
            assert start_sandbox(many, workspace).status_code == 201
        lone = one.workspace()
        assert start_sandbox(one, lone).status_code == 201
        # Each user's sandboxes sit in one cgroup of theirs, of the default weight and
        # with one sandbox's CPU limit (1 CPU by default) for all of them together.
        assert user_cgroups(instance) == {
            f"user-{many.id}": (3, 1024, 100_000),
            f"user-{one.id}": (1, 1024, 100_000),
        }
        assert many.client.delete(f"/api/workspaces/{workspaces[0]}/sandbox").status_code == 204
        until(lambda: user_cgroups(instance)[f"user-{many.id}"][0] == 2, "the sandbox to be gone")
        assert one.client.delete(f"/api/workspaces/{lone}/sandbox").status_code == 204
        until(lambda: f"user-{one.id}" not in user_cgroups(instance), "the user's cgroup to go")
    finally:
        instance.close()


def admission_state(admin: User) -> dict[str, Any]:
    """`GET /api/admin/admission` as `admin`, checked to answer 200."""
    answer = admin.client.get("/api/admin/admission")
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


def user_cgroups(server: SandpitServer) -> dict[str, tuple[int, int, int]]:
    """Per user cgroup of the server: (sandboxes, weight in v1 shares, CPU quota per 100 ms)."""
    root = server.env["CGROUP_ROOT"]
    v1 = Path("/sys/fs/cgroup/cpu") / root
    found = {}
    if v1.is_dir():
        for group in v1.glob("user-*"):
            found[group.name] = (
                sum(1 for d in group.iterdir() if d.is_dir()),
                int((group / "cpu.shares").read_text()),
                int((group / "cpu.cfs_quota_us").read_text()),
            )
        return found
    for group in (Path("/sys/fs/cgroup") / root).glob("user-*"):
        found[group.name] = (
            sum(1 for d in group.iterdir() if d.is_dir()),
            int((group / "cpu.weight").read_text()) * 1024 // 100,
            int((group / "cpu.max").read_text().split()[0]),
        )
    return found


# --- /metrics and the admin API ----------------------------------------------


def test_metrics_need_the_token_or_an_admin(
    capped: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    user = make_user(capped)
    workspace = user.workspace()
    run = user.client.post(f"/api/workspaces/{workspace}/runs?wait=true", json={"code": "1"})
    assert run.status_code == 200
    with httpx.Client(base_url=capped.url, timeout=30) as anon:
        assert anon.get("/metrics").status_code == 401
        assert anon.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = anon.get("/metrics", headers={"Authorization": "Bearer scrape-token-for-tests"})
    assert user.client.get("/metrics").status_code == 403
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    for name in (
        "sandpit_http_requests_total",
        "sandpit_http_request_duration_seconds_bucket",
        "sandpit_sandboxes_active",
        "sandpit_sandbox_starts_total",
        "sandpit_sandbox_start_duration_seconds_bucket",
        "sandpit_run_duration_seconds_bucket",
        "sandpit_oom_kills_total",
        "sandpit_terminal_sessions",
        "sandpit_proxy_tunnels",
        "sandpit_proxy_bytes_total",
        "sandpit_admission_refusals_total",
        "sandpit_storage_used_bytes",
    ):
        assert name in text, name
    assert 'sandpit_runs_total{status="ok"}' in text
    assert 'route="/api/workspaces/{workspace_id}/runs"' in text
    # Bounded labels: no raw path, no id, no user name.
    assert workspace not in text
    assert user.id not in text
    assert user.username not in text
    make_admin(capped, user)
    assert user.client.get("/metrics").status_code == 200


def test_the_admin_view_lists_users_and_sandboxes_and_stops_one(
    capped: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    student, admin = make_user(capped), make_user(capped)
    workspace = student.workspace("essay")
    assert start_sandbox(student, workspace).status_code == 201
    assert student.client.get("/api/admin/sandboxes").status_code == 403
    make_admin(capped, admin)

    listed = admin.client.get("/api/admin/sandboxes").json()
    mine = [s for s in listed if s["workspace_id"] == workspace]
    assert len(mine) == 1
    assert (mine[0]["username"], mine[0]["workspace_name"]) == (student.username, "essay")
    assert mine[0]["memory_bytes"] > 0
    assert mine[0]["pids"] > 0

    users: list[dict[str, object]] = []
    offset: int | None = 0
    while offset is not None:
        page = admin.client.get("/api/admin/users", params={"offset": offset}).json()
        users += page["users"]
        offset = page["next_offset"]
    row = next(u for u in users if u["id"] == student.id)
    assert (row["sandboxes"], row["workspaces"]) == (1, 1)
    assert isinstance(row["memory_bytes"], int)
    assert row["memory_bytes"] > 0

    assert admin.client.delete(f"/api/admin/sandboxes/{workspace}").status_code == 204
    assert student.client.get(f"/api/workspaces/{workspace}/sandbox").json()["running"] is False
    assert admin.client.delete(f"/api/admin/sandboxes/{workspace}").status_code == 404
