"""The bookkeeping of spares confined ahead of their runs (`sandpit.sandbox.agent_spare`).

Pure logic: which spare a spawn takes, which leaf goes when. The cgroup
work itself (`_confine_spare`) is replaced by a recorder here; the real
thing runs in every warm run of the warm suites on both backends
(`test_warm_isolation.py` checks a warm run's leaf and OOM score).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, cast

import pytest

from sandpit.sandbox import agent_spare, cgroups
from sandpit.sandbox.agent_spare import Confined, Spares


class FakeLeaf:
    def __init__(self, ns_pid: int) -> None:
        self.ns_pid = ns_pid
        self.removed = False

    def remove(self) -> None:
        self.removed = True


@pytest.fixture
def leaves(monkeypatch: pytest.MonkeyPatch) -> dict[int, FakeLeaf]:
    """The leaf made for each confined spare, by its pid in the sandbox."""
    made: dict[int, FakeLeaf] = {}

    def confine(_cgroup: Any, _node: Any, ns_pid: int) -> Confined:
        made[ns_pid] = FakeLeaf(ns_pid)
        return Confined(cast(cgroups.Leaf, made[ns_pid]), host_pid=1000 + ns_pid, started="1")

    monkeypatch.setattr(agent_spare, "_confine_spare", confine)
    return made


def spares() -> Spares:
    return Spares(cast(cgroups.SandboxCgroup, None), cast(cgroups.CgroupNode, None))


async def until(condition: Callable[[], bool]) -> None:
    """Poll `condition` (a worker thread or a clean-up task makes it true), 10 s at most."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.01)


async def test_a_spare_is_offered_once_confined_and_taken_by_its_spawn(
    leaves: dict[int, FakeLeaf],
) -> None:
    s = spares()
    assert (s.waiting, s.confined()) == (False, None)
    s.announced(7)
    assert s.waiting
    await until(lambda: s.confined() == 7)
    # The spawn's answer comes first; the next spare's announcement right after
    # it must not discard the spare that spawn just took.
    s.spawned("run-a", 7)
    s.announced(8)
    taken = await s.take("run-a")
    assert taken is not None
    assert taken.leaf is cast(Any, leaves[7])
    await until(lambda: s.confined() == 8)
    assert not leaves[7].removed
    assert await s.take("run-a") is None  # taken once


async def test_an_unused_spare_and_a_failed_spawns_spare_lose_their_leaves(
    leaves: dict[int, FakeLeaf],
) -> None:
    s = spares()
    s.announced(7)
    s.announced(8)  # 7 is gone (its interpreter was replaced): one spare at a time
    await until(lambda: 7 in leaves and leaves[7].removed)
    await until(lambda: s.confined() == 8)
    assert not leaves[8].removed
    s.spawned("run-b", 8)
    s.forget("run-b")  # the spawn failed after the agent answered
    await until(lambda: leaves[8].removed)
    # A spawn that was not forked from the spare takes nothing.
    s.announced(9)
    s.spawned("run-c", 42)
    assert await s.take("run-c") is None
    assert s.waiting


async def test_closing_stops_confining(leaves: dict[int, FakeLeaf]) -> None:
    s = spares()
    s.announced(7)
    s.spawned("run-d", 7)
    s.close()
    assert await s.take("run-d") is None
    s.announced(8)
    assert not s.waiting
