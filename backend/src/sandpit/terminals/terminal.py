"""One terminal: a login shell on a PTY in a workspace's sandbox, and the clients attached to it.

The terminal owns its shell process, the PTY's I/O (`PtyStream`: never
blocking, coalesced, see `sandpit.terminals.pty`), the replay ring and its
clients:
- Output goes into the ring and to every live client.
- Flow control: reading stops while any live client holds more than
  `HIGH_WATER` unacknowledged bytes and resumes when every live client is
  below `LOW_WATER`. A client that holds the terminal up without
  acknowledging anything for `STALL_S` falls behind: it stops getting live
  output (the others go on) and is resynced from the ring once it has
  acknowledged what it was sent. With no live client at all, output is
  read at a trickle.
- Input is checked (the line cap), noted for the command log, and queued;
  a paste arrives whole and in order, and the sender waits while too much
  is queued.
Memory per terminal is bounded: the ring, one flush, the input queue, and
per client at most one replay plus `HIGH_WATER` and one read budget.

States: running → exited (the shell ended, was closed, or its sandbox
ended); an exited terminal still replays its output to a client that
attaches, then closes it, until it is culled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

from sandpit.db.models import utcnow
from sandpit.errors import RateLimited
from sandpit.sandbox.base import EndReason, ExitStatus, Process, Sandbox, SandboxError
from sandpit.sandbox.limits import Limits
from sandpit.terminals.client import Client
from sandpit.terminals.commandlog import CommandLog
from sandpit.terminals.input import CommandLines, LineCap
from sandpit.terminals.pty import PtyStream
from sandpit.terminals.ring import Ring

log = logging.getLogger(__name__)

HIGH_WATER = 100_000
LOW_WATER = 50_000
STALL_S = 2.0
EXIT_DRAIN_S = 1.0
SANDBOX_END_WAIT_S = 1.0
EXITED_KEEP_S = 300.0

NORMAL_CLOSURE = 1000


@dataclass(frozen=True)
class TerminalLimits:
    ring_bytes: int
    line_bytes: int
    max_clients: int
    grace_s: float


class Terminal:
    def __init__(
        self,
        *,
        terminal_id: str,
        workspace_id: str,
        owner_id: str,
        sandbox: Sandbox,
        process: Process,
        limits: TerminalLimits,
        command_log: CommandLog,
        on_closed: Callable[[Terminal], None],
        rows: int,
        cols: int,
    ) -> None:
        assert process.pty_fd is not None
        self.id = terminal_id
        self.workspace_id = workspace_id
        self.owner_id = owner_id
        self.created_at = utcnow()
        self.rows = rows
        self.cols = cols
        self.exited = False
        self.exit_code: int | None = None
        self.end_reason: EndReason | None = None
        self.clients: dict[int, Client] = {}
        self.ring = Ring(limits.ring_bytes)
        self._sandbox = sandbox
        self._process = process
        self._limits = limits
        self._log = command_log
        self._on_closed = on_closed
        self._loop = asyncio.get_running_loop()
        self._cap = LineCap(limits.line_bytes)
        self._lines = CommandLines()
        self._pty: PtyStream | None = None
        self._flow_paused = False
        self._stall_handle: asyncio.TimerHandle | None = None
        # Lifetime.
        self._terminating = False
        self._close_code = NORMAL_CLOSURE
        self._close_reason = "The shell has exited."
        self._final: list[dict[str, object]] = []
        self._cull_handle: asyncio.TimerHandle | None = None
        self._cull_task: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        assert self._process.pty_fd is not None
        self._pty = PtyStream(self._process.pty_fd, self._publish, self._attended)
        self._supervisor = self._loop.create_task(self._supervise())
        self._schedule_cull()

    # --- clients ---------------------------------------------------------------

    def attach(self, user_id: str) -> Client:
        """A new client: it is sent the replay first (and, if the shell has ended, the end)."""
        if len(self.clients) >= self._limits.max_clients:
            raise RateLimited(
                f"{self._limits.max_clients} windows are already attached to this terminal; "
                "close one first.",
                5,
            )
        client = Client(user_id)
        self.clients[client.id] = client
        self._cancel_cull()
        client.push_replay(self.ring.replay())
        if self.exited:
            self._send_final(client)
        self._check_flow()
        return client

    def detach(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        self._check_flow()
        if not self.clients:
            self._schedule_cull()

    def ack(self, client: Client, total: int) -> None:
        if not client.ack(total):
            return
        if not client.live and not client.closed and client.unacked <= LOW_WATER:
            client.push_control({"type": "resync"})
            client.push_replay(self.ring.replay())
        self._check_flow()

    def resize(self, rows: int, cols: int) -> None:
        if self.exited:
            return
        self.rows, self.cols = rows, cols
        with contextlib.suppress(OSError):
            self._process.resize(rows, cols)

    # --- input -----------------------------------------------------------------

    async def write(self, data: bytes, client: Client) -> None:
        """Queue input for the PTY; waits while too much is queued. Refuses over-long lines."""
        pty = self._pty
        if self.exited or pty is None or not pty.open:
            return
        if not self._cap.accept(data):
            message = f"An input line longer than {_size(self._limits.line_bytes)} was refused."
            client.push_output(f"\r\n\x1b[1;31m[{message}]\x1b[0m\r\n".encode())
            client.push_control({"type": "error", "message": message})
            return
        lines = self._lines.feed(data)
        if lines and not pty.secret_input():
            for line in lines:
                self._log.record(client.user_id, self.workspace_id, self.id, line)
        await pty.write(data)

    # --- output and flow control ---------------------------------------------

    def _attended(self) -> bool:
        return any(c.live for c in self.clients.values())

    def _publish(self, data: bytes) -> None:
        self.ring.append(data)
        for client in self.clients.values():
            if client.live:
                client.push_output(data)
        self._check_flow()

    def _check_flow(self) -> None:
        live = [c for c in self.clients.values() if c.live]
        if self._flow_paused:
            self._flow_paused = not all(c.unacked_live <= LOW_WATER for c in live)
        else:
            self._flow_paused = any(c.unacked_live > HIGH_WATER for c in live)
        if self._flow_paused and self._stall_handle is None:
            self._stall_handle = self._loop.call_later(STALL_S / 4, self._check_stalls)
        if self._pty is not None:
            self._pty.set_paused(self._flow_paused)

    def _check_stalls(self) -> None:
        """Move clients that hold the terminal up without acknowledging anything behind."""
        self._stall_handle = None
        if not self._flow_paused:
            return
        now = self._loop.time()
        for client in self.clients.values():
            if not client.live or client.unacked_live <= LOW_WATER:
                continue
            if client.stalled_since is None:
                client.stalled_since = now
            elif now - client.stalled_since >= STALL_S:
                log.info("terminal %s: client %d fell behind", self.id, client.id)
                client.fall_behind()
        self._check_flow()

    # --- lifetime --------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            status = await self._process.wait()
        except SandboxError:  # the agent lost track of it: the shell is gone for us
            status = ExitStatus(code=None, signal=signal.SIGKILL)
        reason = self._sandbox.ended_reason
        if reason is None and not self._terminating and status.signal == signal.SIGKILL:
            # A sandbox that ends takes its processes along, and their exits
            # are reported just before the end itself: wait to tell which.
            with contextlib.suppress(TimeoutError):
                reason = await asyncio.wait_for(self._sandbox.wait_ended(), SANDBOX_END_WAIT_S)
        if reason is None:
            # Like closing a terminal window: what the shell left running ends too.
            await self._kill_group()
        assert self._pty is not None
        self._pty.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pty.eof.wait(), EXIT_DRAIN_S)
        self._pty.flush()
        self._finish(status, reason)

    def _finish(self, status: ExitStatus, reason: EndReason | None) -> None:
        if self.exited:
            return
        self.exited = True
        self.end_reason = reason
        self.exit_code = exit_code(status)
        if status.error:
            self._publish(f"\r\n[The shell could not be started: {status.error}]\r\n".encode())
        if reason is not None:
            self._publish(ended_text(reason, self._sandbox.limits).encode())
            self._final.append(
                {"type": "ended", "reason": reason.value, "message": reason.sentence()}
            )
            self._close_reason = "The sandbox has ended."
        exit_message: dict[str, object] = {"type": "exit", "code": self.exit_code}
        if status.signal is not None:
            exit_message["signal"] = status.signal
        self._final.append(exit_message)
        self._release()
        for client in self.clients.values():
            self._send_final(client)
        if not self.clients:
            self._schedule_cull()

    def _send_final(self, client: Client) -> None:
        for message in self._final:
            client.push_control(message, essential=True)
        client.push_close(self._close_code, self._close_reason)

    def _release(self) -> None:
        if self._stall_handle is not None:
            self._stall_handle.cancel()
            self._stall_handle = None
        if self._pty is not None:
            self._pty.close()
        self._process.close()

    async def _kill_group(self) -> None:
        try:
            await self._process.kill_group()
        except Exception:  # the sandbox (and the group with it) may be gone already
            log.debug("terminal %s: could not kill its group", self.id, exc_info=True)

    async def terminate(
        self, code: int = NORMAL_CLOSURE, reason: str = "The terminal was closed."
    ) -> None:
        """End the shell and everything it started, close its clients, and forget it."""
        self._cancel_cull()
        if not self.exited:
            self._terminating = True
            self._close_code, self._close_reason = code, reason
            await self._kill_group()
            assert self._supervisor is not None
            try:
                await asyncio.wait_for(asyncio.shield(self._supervisor), 5)
            except TimeoutError:
                log.warning("terminal %s did not end when killed; dropping it", self.id)
                self._supervisor.cancel()
                self._finish(ExitStatus(code=None, signal=signal.SIGKILL), None)
        if not self._closed:
            self._closed = True
            self._on_closed(self)

    def discard(self) -> None:
        """Forget an exited terminal now (its owner needs the room); no-op while running."""
        if self.exited:
            self._cancel_cull()
            self._closed = True

    def _schedule_cull(self) -> None:
        self._cancel_cull()
        delay = min(EXITED_KEEP_S, self._limits.grace_s) if self.exited else self._limits.grace_s
        self._cull_handle = self._loop.call_later(delay, self._cull)

    def _cancel_cull(self) -> None:
        if self._cull_handle is not None:
            self._cull_handle.cancel()
            self._cull_handle = None

    def _cull(self) -> None:
        self._cull_handle = None
        if not self.clients and self._cull_task is None:
            log.info("terminal %s: nobody attached for its grace period; closing it", self.id)
            self._cull_task = self._loop.create_task(self.terminate())


def exit_code(status: ExitStatus) -> int:
    """The shell's convention: the exit code, or 128 + the signal that ended it."""
    if status.code is not None:
        return status.code
    if status.signal is not None:
        return 128 + status.signal
    return 255


def _size(count: int) -> str:
    return f"{count // 1024} KiB" if count % 1024 == 0 else f"{count} bytes"


def _span(seconds: int) -> str:
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds} seconds"


def ended_text(reason: EndReason, limits: Limits) -> str:
    """The line shown in a terminal whose sandbox ended, saying which limit ended it."""
    why = {
        EndReason.LIFETIME: f"it reached its lifetime limit of {_span(limits.lifetime_s)}",
        EndReason.IDLE: f"nothing ran in it for {_span(limits.idle_s)}",
        EndReason.STOPPED: "it was stopped",
        EndReason.CRASHED: "it ended unexpectedly",
        EndReason.SHUTDOWN: "the server is restarting",
    }[reason]
    return f"\r\n\x1b[1;33m[sandbox ended: {why}]\x1b[0m\r\n"
