"""`GET /api/limits`: what the server's settings are, as clients are to show them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import User
from tests.servers import SandpitServer


@pytest.fixture(scope="module")
def tuned() -> Iterator[SandpitServer]:
    """A server whose limits differ from every default, so none can be hard-coded."""
    instance = SandpitServer(
        run_timeout_s="45",
        run_timeout_max_s="120",
        run_output_bytes="65536",
        runs_per_minute="7",
        concurrent_runs_per_workspace="3",
        sandbox_memory_mb="256",
        max_file_bytes="4096",
        workspace_quota_bytes="9999999",
        workspace_quota_files="77",
        max_workspaces_per_user="5",
        terminals_per_workspace="2",
        package_proxy_allowed_hosts=json.dumps(["pypi.org:443"]),
    )
    instance.start()
    yield instance
    instance.close()


def test_the_limits_are_the_settings(
    tuned: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    limits = make_user(tuned).client.get("/api/limits")
    assert limits.status_code == 200, limits.text
    body = limits.json()
    assert body["runs"] == {
        "timeout_s": 45,
        "timeout_max_s": 120,
        "output_bytes": 65536,
        "per_minute": 7,
        "concurrent_per_workspace": 3,
    }
    assert body["sandbox"]["memory_bytes"] == 256 * 2**20
    assert body["sandbox"]["pids"] == 50
    assert body["workspaces"] == {
        "quota_bytes": 9999999,
        "quota_files": 77,
        "file_bytes": 4096,
        "per_user": 5,
        "terminals": 2,
    }
    assert body["package_index_hosts"] == ["pypi.org:443"]


def test_a_default_above_the_maximum_is_shown_capped(
    make_user: Callable[[SandpitServer], User],
) -> None:
    # As a run gets it: the service caps the default at the maximum too.
    instance = SandpitServer(run_timeout_s="500", run_timeout_max_s="60")
    instance.start()
    try:
        runs = make_user(instance).client.get("/api/limits").json()["runs"]
        assert (runs["timeout_s"], runs["timeout_max_s"]) == (60, 60)
    finally:
        instance.close()


def test_signed_out_clients_get_401(tuned: SandpitServer) -> None:
    with httpx.Client(base_url=tuned.url, timeout=30) as anon:
        response = anon.get("/api/limits")
    assert response.status_code == 401
    assert response.json()["detail"]
