"""Every time the API sends is RFC 3339 in UTC with its offset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import User


def assert_utc_now(value: str) -> None:
    assert value.endswith("Z"), value
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=5), value


def test_workspace_run_and_terminal_times_carry_their_offset(user: User) -> None:
    workspace = user.client.post("/api/workspaces", json={"name": "clock"}).json()
    opened = user.client.post(f"/api/workspaces/{workspace['id']}/open").json()
    for field in ("created_at", "updated_at", "last_opened_at"):
        assert_utc_now(opened[field])
    for listed in user.client.get("/api/workspaces").json():
        assert_utc_now(listed["created_at"])

    run = user.client.post(
        f"/api/workspaces/{workspace['id']}/runs?wait=true", json={"code": "print(1)"}
    ).json()
    assert_utc_now(run["created_at"])
    assert_utc_now(run["finished_at"])
    assert datetime.fromisoformat(run["finished_at"]) >= datetime.fromisoformat(run["created_at"])

    terminal = user.client.post(f"/api/workspaces/{workspace['id']}/terminals").json()
    assert_utc_now(terminal["created_at"])
    user.client.delete(f"/api/workspaces/{workspace['id']}/terminals/{terminal['id']}")
