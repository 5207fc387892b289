"""A warm run's process, confined in its run leaf before the run arrives.

The warm interpreter keeps one spare fork waiting for the next run
(`sandbox/inside/warm.py`), and the agent announces each one. Moving a
process into a cgroup is the slowest step of starting a run (the kernel
waits for an RCU grace period on a move after a quiet spell: 11-16 ms
measured, see docs/architecture/warm-runs.md), so it is done here as soon as
the spare exists: a new run leaf (`run-spare-<hex>`, an OOM group like every
run's), the spare found among the agent's cgroup members and moved into it.
When a run is then forked from that spare, it is already where its run must
be, and starting it costs no cgroup work at all.

The gate is the same as for every process (`agent_process`): the spare runs
no user code before its run is handed to it, and then waits at its gate.
Confined means in its leaf *and* given the run's OOM score; a run's spawn
names the spare when it is confined (`release_if`), and the agent releases
the child at once if it is that spare (one round trip less). Otherwise the
server says "go" once the process is known to be the one moved into the
leaf (same pid, same start time). A spare that is never used (the
interpreter died or was replaced) is killed with its leaf when the next one
is announced, or with the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandpit.sandbox import cgroups
from sandpit.sandbox.agent_process import host_pid_of, make_first_oom_victim

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Confined:
    """A spare in its leaf: its host pid and start time (to know it is still the same process)."""

    leaf: cgroups.Leaf
    host_pid: int
    started: str

    def still_there(self) -> bool:
        """Whether the process moved into the leaf is alive and is still `host_pid`."""
        return start_time(self.host_pid) == self.started


@dataclass
class Spare:
    """One announced spare: its pid in the sandbox, and its confinement under way or done."""

    ns_pid: int
    confining: asyncio.Task[Confined | None]


class Spares:
    """The spares of one sandbox (a `SpareWatcher` of its agent channel); see the module docstring.

    `announced` confines each new spare in the background; `spawned` hands it
    to the spawn its run became (before any other message is read, so the
    next announcement never discards a spare a run has taken); `take` gives
    it to that spawn's `exec_via_agent`.
    """

    def __init__(self, cgroup: cgroups.SandboxCgroup, agent_node: cgroups.CgroupNode) -> None:
        self._cgroup = cgroup
        self._agent_node = agent_node
        self._next: Spare | None = None
        self._taken: dict[str, Spare] = {}
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> bool:
        """Whether a spare is waiting for a run (so a warm run's leaf need not be made)."""
        return self._next is not None

    def confined(self) -> int | None:
        """The waiting spare's pid in the sandbox if it is confined already, else None."""
        spare = self._next
        if spare is None or not spare.confining.done() or spare.confining.cancelled():
            return None
        if spare.confining.exception() is not None or spare.confining.result() is None:
            return None
        return spare.ns_pid

    def announced(self, ns_pid: int) -> None:
        if self._closed:
            return
        if self._next is not None:
            # One spare at a time: the last one is gone (its interpreter
            # died or was replaced) without being handed a run.
            self._discard(self._next)
        confining = asyncio.ensure_future(
            asyncio.to_thread(_confine_spare, self._cgroup, self._agent_node, ns_pid)
        )
        self._next = Spare(ns_pid, confining)

    def spawned(self, spawn_id: str, ns_pid: int) -> None:
        if self._next is not None and self._next.ns_pid == ns_pid:
            self._taken[spawn_id] = self._next
            self._next = None

    async def take(self, spawn_id: str) -> Confined | None:
        """The confined spare spawn `spawn_id` was forked from, or None (not one, or it failed).

        Waits for its confinement if it is still under way. The caller owns
        the leaf afterwards.
        """
        spare = self._taken.pop(spawn_id, None)
        if spare is None:
            return None
        try:
            return await asyncio.shield(spare.confining)
        except asyncio.CancelledError:
            if spare.confining.cancelled():  # the sandbox ended (`close`)
                return None
            raise
        except Exception:
            log.exception("a spare could not be confined")
            return None

    def forget(self, spawn_id: str) -> None:
        """Drop spawn `spawn_id`'s spare if it never took it (the spawn failed); its leaf goes."""
        spare = self._taken.pop(spawn_id, None)
        if spare is not None:
            self._discard(spare)

    def close(self) -> None:
        """The sandbox ended (its cgroup goes with its leaves): stop confining."""
        self._closed = True
        for spare in [*(s for s in [self._next] if s is not None), *self._taken.values()]:
            spare.confining.cancel()
        self._next = None
        self._taken.clear()

    def _discard(self, spare: Spare) -> None:
        task = asyncio.ensure_future(_remove_when_confined(spare))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _remove_when_confined(spare: Spare) -> None:
    """Kill an unused spare's leaf (and whatever is left in it) and remove it; never raises."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        confined = await spare.confining
        if confined is not None:
            await asyncio.to_thread(confined.leaf.remove)


def _confine_spare(
    cgroup: cgroups.SandboxCgroup, agent_node: cgroups.CgroupNode, ns_pid: int
) -> Confined | None:
    """Make a run leaf and move spare `ns_pid` into it (in a worker thread); None if it is gone."""
    try:
        leaf = cgroup.leaf(f"run-spare-{uuid.uuid4().hex[:16]}", oom_group=True)
    except (OSError, ValueError, cgroups.CgroupError) as exc:
        log.warning("a spare's leaf could not be made: %s", exc)
        return None
    host_pid = host_pid_of(agent_node, ns_pid)
    started = start_time(host_pid) if host_pid is not None else None
    if host_pid is None or started is None:
        _remove_quietly(leaf)
        return None
    try:
        leaf.add(host_pid)
        make_first_oom_victim(host_pid)
    except (OSError, cgroups.CgroupError):
        _remove_quietly(leaf)
        return None
    return Confined(leaf, host_pid, started)


def _remove_quietly(leaf: cgroups.Leaf) -> None:
    with contextlib.suppress(OSError, cgroups.CgroupError):
        leaf.remove()


def start_time(host_pid: int) -> str | None:
    """Host process `host_pid`'s start time (field 22 of its stat), or None if it is gone."""
    try:
        stat = Path(f"/proc/{host_pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) S ...": the name may hold spaces and parentheses; fields follow the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None
