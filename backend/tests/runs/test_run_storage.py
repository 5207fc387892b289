"""Recorded runs are bounded: listed as summaries a page at a time, pruned past a count
and a byte budget (never a running one), their plots written to disk as they come,
counted in `usage` and removed with their workspace. Real server, real sandbox."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import User
from tests.servers import SandpitServer

KEEP = 3
STORAGE = 64 * 1024
PLOT = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()\n"


@pytest.fixture(scope="module")
def small() -> Iterator[SandpitServer]:
    instance = SandpitServer(
        runs_kept_per_workspace=str(KEEP), run_storage_bytes=str(STORAGE), runs_per_minute="1000"
    )
    instance.start()
    yield instance
    instance.close()


@pytest.fixture
def user(small: SandpitServer, make_user: Callable[[SandpitServer], User]) -> User:
    return make_user(small)


def run(user: User, ws: str, code: str) -> dict[str, object]:
    answer = user.client.post(
        f"/api/workspaces/{ws}/runs", params={"wait": True}, json={"code": code}, timeout=120
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def listed(user: User, ws: str, **params: object) -> list[dict[str, object]]:
    answer = user.client.get(f"/api/workspaces/{ws}/runs", params=params)
    assert answer.status_code == 200, answer.text
    runs: list[dict[str, object]] = answer.json()
    return runs


def plots_of(data_dir: Path, ws: str) -> set[str]:
    """The runs that have plots on disk, by id."""
    directory = data_dir / "runs" / ws
    return {entry.name for entry in directory.iterdir()} if directory.is_dir() else set()


def test_the_list_is_summaries_a_page_at_a_time(user: User) -> None:
    ws = user.workspace()
    ids = [str(run(user, ws, f"print('{i}' * 1000)")["id"]) for i in range(KEEP)]
    first = listed(user, ws, limit=2)
    assert [r["id"] for r in first] == ids[::-1][:2]
    assert all("stdout" not in r and "output" not in r for r in first)
    assert first[0]["status"] == "ok"
    assert first[0]["image_count"] == 0
    rest = listed(user, ws, limit=2, before=first[-1]["id"])
    assert [r["id"] for r in rest] == [ids[0]]
    # The output is the run's own.
    assert user.client.get(f"/api/runs/{ids[0]}").json()["stdout"] == "0" * 1000 + "\n"
    bad = user.client.get(f"/api/workspaces/{ws}/runs", params={"before": "0" * 32})
    assert bad.status_code == 404
    assert "'before'" in bad.json()["detail"]
    too_many = user.client.get(f"/api/workspaces/{ws}/runs", params={"limit": 101})
    assert too_many.status_code == 422


def test_old_runs_are_pruned_and_a_running_one_never(user: User, small: SandpitServer) -> None:
    ws = user.workspace()
    waiting = user.client.post(
        f"/api/workspaces/{ws}/runs", json={"code": "input()\nprint('late')", "interactive": True}
    ).json()["id"]
    with_plot = str(run(user, ws, PLOT)["id"])
    assert plots_of(small.data_dir, ws) == {with_plot}
    later = [str(run(user, ws, f"print({i})")["id"]) for i in range(KEEP)]

    ids = [r["id"] for r in listed(user, ws)]
    # The newest KEEP finished runs, and the running one.
    assert ids == [*later[::-1], waiting]
    assert user.client.get(f"/api/runs/{with_plot}").status_code == 404
    assert plots_of(small.data_dir, ws) == set()
    # The running run ends and is recorded: the oldest finished run, it goes then.
    sent = user.client.post(f"/api/runs/{waiting}/stdin", json={"text": "\n", "eof": True})
    assert sent.status_code == 204
    deadline = time.monotonic() + 30
    while user.client.get(f"/api/runs/{waiting}").status_code != 404:
        assert time.monotonic() < deadline, "the finished run was not pruned"
        time.sleep(0.1)
    assert [r["id"] for r in listed(user, ws)] == later[::-1]


def test_runs_past_the_byte_budget_are_pruned_oldest_first(user: User) -> None:
    ws = user.workspace()
    big = STORAGE // 3
    ids = [str(run(user, ws, f"print('x' * {big})")["id"]) for _ in range(3)]
    # Three of a third each pass the budget with the record's overhead: two stay.
    assert [r["id"] for r in listed(user, ws)] == ids[::-1][:2]
    usage = user.client.get(f"/api/workspaces/{ws}/usage").json()
    assert usage["runs"] == 2
    assert 2 * big < usage["runs_bytes"] <= STORAGE
    assert usage["runs_quota_bytes"] == STORAGE
    assert usage["runs_kept"] == KEEP


def test_plots_count_in_usage_and_go_with_the_workspace(user: User, small: SandpitServer) -> None:
    ws = user.workspace()
    before = user.client.get(f"/api/workspaces/{ws}/usage").json()
    assert (before["runs"], before["runs_bytes"]) == (0, 0)
    plotted = run(user, ws, PLOT)
    images = plotted["images"]
    assert isinstance(images, list)
    png = user.client.get(str(images[0])).content
    usage = user.client.get(f"/api/workspaces/{ws}/usage").json()
    assert usage["runs"] == 1
    assert usage["runs_bytes"] >= len(png) > 1000
    assert plots_of(small.data_dir, ws) == {plotted["id"]}

    assert user.client.delete(f"/api/workspaces/{ws}").status_code == 204
    assert not (small.data_dir / "runs" / ws).exists()
    assert user.client.get(f"/api/runs/{plotted['id']}").status_code == 404


def test_a_running_runs_plot_is_on_disk_not_in_memory(user: User, small: SandpitServer) -> None:
    ws = user.workspace()
    code = PLOT + "input('More? ')\n"
    run_id = user.client.post(
        f"/api/workspaces/{ws}/runs", json={"code": code, "interactive": True}
    ).json()["id"]
    plot = small.data_dir / "runs" / ws / run_id / "0.png"
    deadline = time.monotonic() + 60
    while not plot.exists():
        assert time.monotonic() < deadline, "the plot was not written while the run ran"
        time.sleep(0.1)
    assert user.client.get(f"/api/runs/{run_id}").json()["status"] == "running"
    served = user.client.get(f"/api/runs/{run_id}/images/0")
    assert served.status_code == 200
    assert served.content == plot.read_bytes()
    assert served.content.startswith(b"\x89PNG")
    assert plot.stat().st_mode & 0o777 == 0o600
    user.client.post(f"/api/runs/{run_id}/stop")


def test_another_user_cannot_page_through_my_runs(
    user: User, small: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    ws = user.workspace()
    mine = str(run(user, ws, "print(1)")["id"])
    other = make_user(small)
    theirs = other.workspace()
    answer = other.client.get(f"/api/workspaces/{theirs}/runs", params={"before": mine})
    assert answer.status_code == 404
    assert other.client.get(f"/api/workspaces/{ws}/runs").status_code == 404


def test_plots_kept_in_the_older_layout_are_served_and_removed(
    user: User, small: SandpitServer
) -> None:
    # Runs recorded before plots were kept per workspace have them in runs/<run>/.
    ws = user.workspace()
    plotted = run(user, ws, PLOT)
    run_id = str(plotted["id"])
    legacy = small.data_dir / "runs" / run_id
    (small.data_dir / "runs" / ws / run_id).rename(legacy)
    served = user.client.get(f"/api/runs/{run_id}/images/0")
    assert served.status_code == 200
    assert served.content == (legacy / "0.png").read_bytes()

    assert user.client.delete(f"/api/workspaces/{ws}").status_code == 204
    assert not legacy.exists()
    assert not (small.data_dir / "runs" / ws).exists()
