"""Processes started through a sandbox's agent and confined to a cgroup leaf.

Both backends start runs and terminals the same way: the agent inside the
sandbox forks a child and holds it at a gate; the host finds the child's
host pid among the agent's cgroup members, moves it into the leaf of its
group (`run-<id>`, `term-<id>`), and only then lets it execute. So every
process user code starts is confined before it runs a single instruction of
user code, and the leaf can later be killed as a whole (forks and daemons
included) and asked how many OOM kills it saw: facts from the host, never
the agent's word.

`exec_via_agent` does that dance for any backend that has an `AgentChannel`,
a `SandboxCgroup` whose leaves it may create, and the cgroup node where the
agent's own children first appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
import time
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sandpit.sandbox import cgroups
from sandpit.sandbox.base import ExecRequest, ExitStatus, Interpreter, SandboxError
from sandpit.sandbox.channel import AgentChannel

if TYPE_CHECKING:
    from sandpit.sandbox.agent_spare import Confined, Spares


class AgentProcess:
    """A process in a sandbox, started by its agent (see `sandpit.sandbox.base.Process`)."""

    def __init__(
        self,
        channel: AgentChannel,
        spawn_id: str,
        leaf: cgroups.Leaf,
        host_pid: int | None,
        pty_fd: int | None,
        pipes: tuple[int, int, int] | None,
        interpreter: Interpreter | None = None,
    ) -> None:
        self._channel = channel
        self.spawn_id = spawn_id
        self._leaf = leaf
        self.host_pid = host_pid
        self.pty_fd = pty_fd
        self.stdin_fd: int | None = pipes[0] if pipes else None
        self.stdout_fd: int | None = pipes[1] if pipes else None
        self.stderr_fd: int | None = pipes[2] if pipes else None
        self._status: ExitStatus | None = None
        self.interpreter = interpreter

    async def wait(self) -> ExitStatus:
        if self._status is None:
            self._status = await self._channel.exited(self.spawn_id)
        return self._status

    async def signal(self, signum: int) -> None:
        with contextlib.suppress(SandboxError):
            self._channel.signal(self.spawn_id, signum, group=True)

    async def kill_group(self) -> None:
        await asyncio.to_thread(_kill_running, self._leaf)

    def oom_kills(self) -> int:
        try:
            return self._leaf.oom_killed()
        except (OSError, cgroups.CgroupError):
            return 0

    def computing(self) -> bool | None:
        try:
            return any(_runnable(pid) for pid in self._leaf.procs())
        except (OSError, cgroups.CgroupError):
            return None

    def resize(self, rows: int, cols: int) -> None:
        if self.pty_fd is not None:
            fcntl.ioctl(self.pty_fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def close(self) -> None:
        self._close_fds()
        with contextlib.suppress(OSError, cgroups.CgroupError):
            self._leaf.remove()

    def close_in_background(self) -> asyncio.Future[None]:
        self._close_fds()
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(_LEAF_REMOVER, _remove_leaf, self._leaf)

    def _close_fds(self) -> None:
        # The process owns each descriptor until a caller takes it by setting
        # the attribute to None (the run executor takes stdin); each is closed
        # here once, and an error closing one is a bug, not something to hide.
        for name in ("pty_fd", "stdin_fd", "stdout_fd", "stderr_fd"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                os.close(fd)


# Leaves removed in the background (`close_in_background`): their own threads,
# so a removal that waits for the kernel (a large process's exit, the cgroup
# lock) never holds up the worker threads the event loop's other work needs.
_LEAF_REMOVER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandpit-leaf-remover")


def _remove_leaf(leaf: cgroups.Leaf) -> None:
    """Kill what can still run in `leaf`, wait for the exits to finish, remove it; never raises.

    The exits are waited for by looking, not by `Leaf.kill`: freezing a
    cgroup waits for its exiting members too, and writes to it while the
    next run's spare is being moved into a cgroup of the same sandbox.
    """
    with contextlib.suppress(OSError, cgroups.CgroupError):
        _kill_running(leaf)
        deadline = time.monotonic() + _EXIT_WAIT_S
        # One file read a look: this thread shares the interpreter with the
        # event loop, and the full census (`procs`, every hierarchy and its
        # subdirectories) polled here cost the loop about 2 ms a run.
        # `remove` checks the rest, and waits on (EBUSY) for its own limit.
        while leaf.has_own_members() and time.monotonic() < deadline:
            time.sleep(0.002)
        leaf.remove()


def _kill_running(leaf: cgroups.Leaf) -> None:
    """Kill every process in `leaf` that can still run; return once none can.

    A process whose every thread is exiting already (`_exiting`) runs no more
    of its program, but stays in its cgroup until the kernel has torn it
    down: for a fork of the warm interpreter, which maps the whole preload
    set, milliseconds after it reported its end. That wait is left to the
    leaf's removal. A warm run's process may also be between its report and
    its exit (preempted by the agent it woke): it gets `_EXIT_GRACE_S` to
    start exiting. A leaf with any other member is killed as a whole, as
    `Leaf.kill` does, until it is empty.
    """
    deadline = time.monotonic() + _EXIT_GRACE_S
    while any(not _exiting(pid) for pid in leaf.procs()):
        if time.monotonic() >= deadline:
            leaf.kill()
            return
        time.sleep(_EXIT_GRACE_S / 10)


# How long a run's leaf is given for its members to be exiting before it is
# killed (see `_kill_running`): what a process that reported its end needs
# to get a CPU back and call exit, on a busy host.
_EXIT_GRACE_S = 0.003
# How long a leaf's removal waits for the kernel to finish its members' exits
# before it kills and removes it regardless (`Leaf.remove` waits on, for its own limit).
_EXIT_WAIT_S = 5.0


# A task's flag (field 9 of /proc/<pid>/task/<tid>/stat): it is in the kernel's exit.
_PF_EXITING = 0x4


def _exiting(pid: int) -> bool:
    """Whether every thread of host process `pid` is exiting (or it is gone).

    A thread in the kernel's exit never returns to its program: such a
    process can neither run, nor fork, nor be made to by anyone.
    """
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    for tid in threads:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_bytes()
        except OSError:
            continue  # that thread is gone
        fields = stat[stat.rindex(b")") + 2 :].split()
        if not int(fields[6]) & _PF_EXITING:
            return False
    return True


def _runnable(pid: int) -> bool:
    """Whether host process `pid` is in state R (running or runnable); False if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # "pid (comm) S ...": the name may hold spaces and parentheses; the state follows the last ")".
    return stat[stat.rindex(")") + 2 :].startswith("R")


async def exec_via_agent(
    channel: AgentChannel,
    cgroup: cgroups.SandboxCgroup,
    agent_node: cgroups.CgroupNode,
    request: ExecRequest,
    spares: Spares | None = None,
) -> AgentProcess:
    """Start `request` through the agent, confined to the leaf `request.group` of `cgroup`.

    `agent_node` is the cgroup the agent lives in, where its held child
    appears first. Raises `SandboxError` if the agent refuses or the child
    cannot be confined (it is then killed, never released).

    A warm run forked from a spare that `spares` has already confined uses
    the spare's leaf (`sandpit.sandbox.agent_spare`): no cgroup work is left
    on its path. Otherwise the leaf is made while the agent forks (the child
    waits at its gate until it is confined, so only the time changes), and
    the child is found and confined in one worker-thread hop: each is on
    every run's path.
    """
    spawn_id = uuid.uuid4().hex
    host_ends: tuple[int, int, int] | None = None
    child_ends: list[int] = []
    if not request.pty:
        stdin_r, stdin_w = os.pipe2(os.O_CLOEXEC)
        stdout_r, stdout_w = os.pipe2(os.O_CLOEXEC)
        stderr_r, stderr_w = os.pipe2(os.O_CLOEXEC)
        host_ends = (stdin_w, stdout_r, stderr_r)
        child_ends = [stdin_r, stdout_w, stderr_w]
    # A warm run will most likely be the waiting spare, already in a leaf of its
    # own; if it is confined already, the agent may release it at once.
    likely_spare = spares is not None and request.warm is not None and spares.waiting
    release_if = spares.confined() if spares is not None and request.warm is not None else None
    making_leaf = (
        None if likely_spare else _make_leaf(cgroup, request.group, oom_group=not request.pty)
    )
    try:
        ns_pid, master = await channel.spawn(
            spawn_id,
            argv=request.argv,
            env=request.env,
            cwd=request.cwd,
            pty=request.pty,
            rows=request.rows,
            cols=request.cols,
            fds=[*child_ends, *request.extra_fds],
            warm=request.warm,
            release_if=release_if,
        )
    except BaseException:
        for fd in host_ends or ():
            os.close(fd)
        if spares is not None:
            spares.forget(spawn_id)
        await _discard(making_leaf)
        raise
    finally:
        # The agent has its copies (or never will): ours go, once.
        for fd in child_ends:
            os.close(fd)
    held = _Held(channel, spawn_id, ns_pid, master, host_ends)
    if request.warm is None and spares is not None:
        # Only a warm run is ever a spare (a dead one's pid, reused, is not).
        spares.forget(spawn_id)
        spares = None
    confined = await _spare_of(spares, held, making_leaf)
    if channel.released(spawn_id):
        # Released by the agent as the confined spare `release_if` (see `agent_spare`).
        _in_background(_discard(making_leaf))
        if confined is None or ns_pid != release_if:
            # Not the process we confined: an agent that lies. It runs; end it.
            held.kill()
            if confined is not None:
                await _remove(confined.leaf)
            raise SandboxError("The process could not be placed in its group; it was stopped.")
        return held.process(confined.leaf, confined.host_pid)
    if confined is not None and confined.still_there():
        # Same process as the one moved into the leaf (and given the run's OOM
        # score): confined already.
        _in_background(_discard(making_leaf))
        return held.release(confined.leaf, confined.host_pid)
    if confined is not None:
        # The spare was confined, then died: the usual checks below say so.
        await _discard(making_leaf)
        making_leaf = asyncio.get_running_loop().create_future()
        making_leaf.set_result(confined.leaf)
    making_leaf = making_leaf or _make_leaf(cgroup, request.group, oom_group=not request.pty)
    return await _confine_held(held, making_leaf, agent_node)


class _Held:
    """A child the agent forked and holds at its gate, and our ends of its descriptors."""

    def __init__(
        self,
        channel: AgentChannel,
        spawn_id: str,
        ns_pid: int,
        master: int | None,
        host_ends: tuple[int, int, int] | None,
    ) -> None:
        self.channel = channel
        self.spawn_id = spawn_id
        self.ns_pid = ns_pid
        self.master = master
        self.host_ends = host_ends

    def kill(self) -> None:
        """Kill it (it never runs), and close our ends of its descriptors."""
        ours = (*(self.host_ends or ()), *([self.master] if self.master is not None else []))
        _kill_held(self.channel, self.spawn_id, ours)

    def process(self, leaf: cgroups.Leaf, host_pid: int) -> AgentProcess:
        """The process, confined in `leaf` (and released)."""
        interpreter = self.channel.interpreter(self.spawn_id)
        return AgentProcess(
            self.channel, self.spawn_id, leaf, host_pid, self.master, self.host_ends, interpreter
        )

    def release(self, leaf: cgroups.Leaf, host_pid: int) -> AgentProcess:
        """Open the gate of the child, confined in `leaf`; the process from now on."""
        process = self.process(leaf, host_pid)
        self.channel.go(self.spawn_id)
        return process


async def _confine_held(
    held: _Held, making_leaf: asyncio.Future[cgroups.Leaf], agent_node: cgroups.CgroupNode
) -> AgentProcess:
    """Move a held child from `agent_node` into the leaf being made, then release it."""
    try:
        leaf = await asyncio.shield(making_leaf)
    except BaseException:
        # No leaf to hold it (or we were cancelled): the held child never runs.
        held.kill()
        await _discard(making_leaf)
        raise
    host_pid = await asyncio.to_thread(_find_and_confine, leaf, agent_node, held.ns_pid)
    if host_pid is None:
        # Not where the agent said it would be: an agent that lies, or a
        # child already gone. Never release a process we could not confine.
        held.kill()
        await _remove(leaf)
        raise SandboxError("The process could not be placed in its group; it was stopped.")
    return held.release(leaf, host_pid)


# Clean-ups left to run after the answer; held here so they are not collected mid-way.
_BACKGROUND: set[asyncio.Future[None]] = set()


def _in_background(cleanup: Coroutine[None, None, None]) -> None:
    task = asyncio.ensure_future(cleanup)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


def _make_leaf(
    cgroup: cgroups.SandboxCgroup, name: str, *, oom_group: bool
) -> asyncio.Future[cgroups.Leaf]:
    return asyncio.ensure_future(asyncio.to_thread(cgroup.leaf, name, oom_group=oom_group))


async def _spare_of(
    spares: Spares | None, held: _Held, making_leaf: asyncio.Future[cgroups.Leaf] | None
) -> Confined | None:
    """The confined spare `held` was forked from, if it was (see `Spares.take`)."""
    if spares is None:
        return None
    try:
        return await spares.take(held.spawn_id)
    except BaseException:
        held.kill()
        await _discard(making_leaf)
        raise


def _kill_held(channel: AgentChannel, spawn_id: str, ours: tuple[int, ...]) -> None:
    """Kill a child held at its gate, and close our ends of its descriptors."""
    with contextlib.suppress(SandboxError):
        channel.signal(spawn_id, signal.SIGKILL, group=False)
    for fd in ours:
        os.close(fd)


async def _discard(making_leaf: asyncio.Future[cgroups.Leaf] | None) -> None:
    """Remove a leaf being made that no process will use (a refused exec, a spare's run).

    Never raises: it runs while another error (or a cancellation) is on its way up."""
    if making_leaf is None:
        return
    with contextlib.suppress(Exception, asyncio.CancelledError):
        leaf = await asyncio.shield(making_leaf)
        await asyncio.to_thread(leaf.remove)


async def _remove(leaf: cgroups.Leaf) -> None:
    """Remove the leaf of a process that was never released; never raises (see `_discard`)."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.to_thread(leaf.remove)


def _find_and_confine(
    leaf: cgroups.Leaf, agent_node: cgroups.CgroupNode, ns_pid: int
) -> int | None:
    """The held child's host pid, once it is in `leaf` and the first OOM victim; None if
    it could not be found or moved."""
    host_pid = host_pid_of(agent_node, ns_pid)
    if host_pid is None:
        return None
    try:
        _confine(leaf, host_pid)
    except (OSError, cgroups.CgroupError):
        return None
    return host_pid


# The OOM score adjustment of every process started in a sandbox: the most
# killable. The kernel's OOM killer ranks victims by resident size, but memory
# can be charged to a sandbox without showing in any process's (tmpfs files,
# unlinked ones too); ranked by size alone, the agent, often the largest
# process in a sandbox, would be killed and the whole sandbox with it, for
# what one run did. Children inherit it. User code cannot go below the
# agent's 0, so it cannot put the agent first; where the server has
# CAP_SYS_RESOURCE (root normally does), its write makes 1000 the floor too.
# In a host-wide OOM, sandboxed code goes before the server and the database.
USER_OOM_SCORE_ADJ = 1000


def _confine(leaf: cgroups.Leaf, host_pid: int) -> None:
    """Move held child `host_pid` into `leaf` and make it the first OOM victim (one thread hop)."""
    leaf.add(host_pid)
    make_first_oom_victim(host_pid)


def make_first_oom_victim(host_pid: int) -> None:
    """Give host process `host_pid` the highest OOM score adjustment (see above)."""
    Path(f"/proc/{host_pid}/oom_score_adj").write_text(f"{USER_OOM_SCORE_ADJ}\n")


def host_pid_of(agent_node: cgroups.CgroupNode, ns_pid: int) -> int | None:
    """The host pid of the process in `agent_node` whose pid in its own namespace is `ns_pid`."""
    for pid in agent_node.procs():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("NSpid:"):
                fields = line.split()[1:]
                if len(fields) >= 2 and fields[-1] == str(ns_pid):
                    return pid
    return None
