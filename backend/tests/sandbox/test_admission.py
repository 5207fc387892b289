"""Admission, pure: the per-user caps, the host's memory budget and the start rate.

The memory probe and the clock are stand-ins (the real cgroup root is read in
tests/sandbox/test_root_limits.py and the whole path through the API in
tests/api/test_user_limits.py); the decisions are compared to literal
expectations, including that a window's limit resets when the window passes.
"""

from __future__ import annotations

import pytest

from sandpit.errors import HostFull, RateLimited
from sandpit.sandbox.admission import Admission, AdmissionLimits, Held, SandboxCapReached
from sandpit.sandbox.cgroups.base import RootLimits, memory_in_use, v1_cpu_shares
from sandpit.sandbox.cgroups.v1 import v1_root_limit_files
from sandpit.sandbox.cgroups.v2 import v2_root_limit_files
from sandpit.security.ratelimit import MemoryRateLimiter

MiB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def admission(
    *, in_use: int | None = 0, budget: int | None = None, per_minute: int = 10
) -> tuple[Admission, Clock, list[tuple[str, str, str]]]:
    clock = Clock()
    refused: list[tuple[str, str, str]] = []
    checker = Admission(
        AdmissionLimits(
            sandboxes_per_user=3,
            starts_per_minute=per_minute,
            memory_budget_bytes=budget,
            start_reserve_bytes=100 * MiB,
            retry_after_s=7,
        ),
        MemoryRateLimiter(clock=clock),
        lambda: in_use,
        lambda kind, user, detail: refused.append((kind, user, detail)),
    )
    return checker, clock, refused


def test_the_cap_on_sandboxes_lists_those_held() -> None:
    checker, _, refused = admission()
    held = [Held("w1", busy=True), Held("w2", busy=False)]
    checker.check("u1", held, starting=0)  # the third is admitted
    with pytest.raises(SandboxCapReached) as caught:
        checker.check("u1", [*held, Held("w3", busy=False)], starting=0)
    error = caught.value
    assert (error.status_code, error.retry_after) == (429, 7)
    assert error.detail == (
        "You already have 3 sandboxes running, the most one user may have at once; "
        "stop one of them to start another."
    )
    assert error.extra == {
        "limit": "sandboxes_per_user",
        "sandboxes": [
            {"workspace_id": "w1", "busy": True},
            {"workspace_id": "w2", "busy": False},
            {"workspace_id": "w3", "busy": False},
        ],
    }
    assert refused == [("sandboxes_per_user", "u1", error.detail)]
    # Once one ends, the user may start again: the cap counts what is held now.
    checker.check("u1", held, starting=0)


def test_the_budget_counts_memory_in_use_and_every_start_under_way() -> None:
    checker, _, refused = admission(in_use=700 * MiB, budget=1000 * MiB)
    checker.check("u1", [], starting=2)  # 700 + 3 x 100 = 1000: fits exactly
    with pytest.raises(HostFull) as caught:
        checker.check("u2", [], starting=3)  # 700 + 4 x 100 > 1000
    assert (caught.value.status_code, caught.value.retry_after) == (503, 7)
    assert caught.value.detail == (
        "The server is full: every sandbox it has room for is in use. Try again in 7 seconds."
    )
    assert refused[-1][:2] == ("host_memory", "u2")


def test_an_unknown_memory_use_counts_the_reserves_alone() -> None:
    checker, _, _ = admission(in_use=None, budget=250 * MiB)
    checker.check("u1", [], starting=1)
    with pytest.raises(HostFull):
        checker.check("u1", [], starting=2)


def test_no_budget_admits_any_number_of_starts() -> None:
    checker, _, _ = admission(in_use=10**15, budget=None)
    checker.check("u1", [], starting=1000)


def test_the_start_rate_resets_after_its_minute() -> None:
    checker, clock, refused = admission(per_minute=2)
    checker.check("u1", [], starting=0)
    clock.now += 10
    checker.check("u1", [], starting=0)
    with pytest.raises(RateLimited) as caught:
        checker.check("u1", [], starting=0)
    # The first start leaves the window 60 s after it was made: 50 s from now.
    assert caught.value.retry_after == 50
    assert caught.value.detail == (
        "Too many sandbox starts in a minute (at most 2); try again in 50 seconds."
    )
    assert refused[-1][0] == "sandbox_starts_per_minute"
    checker.check("u2", [], starting=0)  # another user has their own count
    clock.now += 50
    checker.check("u1", [], starting=0)


def test_a_refused_start_costs_no_start_and_a_preview_records_none() -> None:
    checker, _, _ = admission(per_minute=1, budget=50 * MiB)
    for _ in range(3):
        with pytest.raises(HostFull):
            checker.check("u1", [], starting=0)
    checker.limits = AdmissionLimits(starts_per_minute=1)
    checker.check("u1", [], starting=0, record=False)
    checker.check("u1", [], starting=0, record=False)
    checker.check("u1", [], starting=0)  # the one start the minute allows
    with pytest.raises(RateLimited):
        checker.check("u1", [], starting=0, record=False)


def test_the_users_cap_is_told_before_the_full_host() -> None:
    checker, _, _ = admission(in_use=10**12, budget=MiB * 64)
    with pytest.raises(SandboxCapReached):
        checker.check("u1", [Held("a", False), Held("b", False), Held("c", False)], starting=0)


# --- the root cgroup: files written and memory read -------------------------


def test_v1_root_files() -> None:
    assert v1_root_limit_files(RootLimits(memory_bytes=3 * 1024 * MiB, cpus=1.5)) == [
        ("memory.limit_in_bytes", "3221225472"),
        ("cpu.cfs_period_us", "100000"),
        ("cpu.cfs_quota_us", "150000"),
    ]
    assert v1_root_limit_files(RootLimits(memory_bytes=None, cpus=None)) == [
        ("memory.limit_in_bytes", "-1"),
        ("cpu.cfs_period_us", "100000"),
        ("cpu.cfs_quota_us", "-1"),
    ]


def test_v2_root_files() -> None:
    assert v2_root_limit_files(RootLimits(memory_bytes=512 * MiB, cpus=2)) == [
        ("memory.max", "536870912"),
        ("cpu.max", "200000 100000"),
    ]
    assert v2_root_limit_files(RootLimits(memory_bytes=None, cpus=None)) == [
        ("memory.max", "max"),
        ("cpu.max", "max 100000"),
    ]


def test_memory_in_use_is_anonymous_plus_tmpfs_never_cache() -> None:
    v1 = {"total_rss": 100, "total_shmem": 20, "total_cache": 5000, "rss": 1}
    v2 = {"anon": 300, "shmem": 40, "file": 9000}
    assert memory_in_use(v1, 1) == 120
    assert memory_in_use(v2, 2) == 340


def test_cpu_weight_in_v1_shares() -> None:
    assert [v1_cpu_shares(w) for w in (100, 50, 33, 1, 10_000, 100_000)] == [
        1024,
        512,
        337,
        10,
        102_400,
        262_144,
    ]
