"""The host end of the channel to a sandbox's agent (see `sandpit.sandbox.agent`).

A SOCK_SEQPACKET socket pair made before the sandbox starts: one packet is
one JSON message, file descriptors travel as SCM_RIGHTS. Everything that
arrives is untrusted (user code runs as the same user as the agent and could
take its place), so messages are size-capped, type-checked, and a received
"PTY" must really be a terminal; a lying agent can only confuse its own
sandbox's bookkeeping, never the server.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from sandpit.fds import OwnedFd
from sandpit.sandbox.base import FRESH_REASONS, ExitStatus, Interpreter, SandboxError

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024
MAX_FDS = 4


@dataclass
class _Pending:
    spawned: asyncio.Future[tuple[int, int | None]]
    exited: asyncio.Future[ExitStatus]
    error: str | None = None
    interpreter: Interpreter | None = None
    released: bool = False
    extra: dict[str, object] = field(default_factory=dict)


class SpareWatcher(Protocol):
    """Told, in the order the agent's messages come, of spares and of the spawns that use them.

    Both are called from the channel's reader, synchronously: a spare
    announced right after a run's "spawned" is seen after that run took the
    last one (`sandpit.sandbox.agent_spare`).
    """

    def announced(self, ns_pid: int) -> None:
        """The warm interpreter forked a spare, `ns_pid` in the sandbox's pid namespace."""

    def spawned(self, spawn_id: str, ns_pid: int) -> None:
        """Spawn `spawn_id` was answered: its process is `ns_pid`."""


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """(host end, sandbox end). The sandbox end must be inherited by the agent."""
    host, sandbox = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    host.setblocking(False)
    sandbox.set_inheritable(True)
    return host, sandbox


class AgentChannel:
    """Requests to one agent and the answers and exit reports that come back."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending: dict[str, _Pending] = {}
        self._pong: asyncio.Future[None] | None = None
        self._listens: dict[str, asyncio.Future[socket.socket]] = {}
        self.closed = asyncio.Event()
        self.spares: SpareWatcher | None = None
        asyncio.get_running_loop().add_reader(sock.fileno(), self._on_readable)

    async def ping(self, timeout: float) -> None:
        """Wait until the agent answers; raises `SandboxError` if it does not in time."""
        # Sent first: a send that finds the agent gone fails the channel (and
        # raises), and a future made before it would be failed too, with no
        # one left to retrieve its exception. No answer can come in between.
        self._send({"op": "ping"})
        pong = self._pong = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(pong), timeout)
        except TimeoutError as exc:
            raise SandboxError("The sandbox did not start in time.") from exc
        finally:
            # A ping given up on (its timeout, a cancelled start) is never
            # awaited again: cancelled, a later end of the sandbox has no
            # exception to set on it that nobody would retrieve.
            if not pong.done():
                pong.cancel()

    async def spawn(
        self,
        spawn_id: str,
        *,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        pty: bool,
        rows: int,
        cols: int,
        fds: list[int],
        warm: tuple[str, ...] | None = None,
        release_if: int | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, int | None]:
        """Fork a held child; return (its pid inside the sandbox, PTY master fd or None).

        With `warm` (the modules to preload), the agent may fork it from its
        warm interpreter; `interpreter(spawn_id)` then says which way it went.
        With `release_if`, a confined spare's pid, a warm child that is that
        spare is not held but released at once (`released(spawn_id)`).
        """
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future(), loop.create_future())
        self._pending[spawn_id] = pending
        message = {
            "op": "spawn",
            "id": spawn_id,
            "argv": argv,
            "env": env,
            "cwd": cwd,
            "pty": pty,
            "rows": rows,
            "cols": cols,
        }
        if warm is not None:
            message["warm"] = {"preload": list(warm)}
            if release_if is not None:
                message["release_if"] = release_if
        self._send(message, fds)
        try:
            return await asyncio.wait_for(asyncio.shield(pending.spawned), timeout)
        except TimeoutError as exc:
            self._pending.pop(spawn_id, None)
            # It may have been forked and be waiting at its gate: end it.
            with contextlib.suppress(SandboxError):
                self.signal(spawn_id, signal.SIGKILL, group=False)
            raise SandboxError("The sandbox did not start the process in time.") from exc

    async def listen(self, host: str, port: int, timeout: float = 10.0) -> socket.socket:
        """A TCP socket listening at host:port on the sandbox's own network.

        The caller owns it. Raises `SandboxError` if the agent cannot listen
        there (something in the sandbox holds the port) or does not answer.
        """
        request_id = uuid.uuid4().hex
        answer: asyncio.Future[socket.socket] = asyncio.get_running_loop().create_future()
        self._listens[request_id] = answer
        try:
            self._send({"op": "listen", "id": request_id, "host": host, "port": port})
            return await asyncio.wait_for(asyncio.shield(answer), timeout)
        except TimeoutError as exc:
            raise SandboxError("The sandbox did not answer in time.") from exc
        finally:
            self._listens.pop(request_id, None)

    def interpreter(self, spawn_id: str) -> Interpreter | None:
        """Which way spawned process `spawn_id` started, as its agent said (None: not asked)."""
        pending = self._pending.get(spawn_id)
        return pending.interpreter if pending is not None else None

    def released(self, spawn_id: str) -> bool:
        """Whether spawned process `spawn_id` was released without a "go" (see `spawn`)."""
        pending = self._pending.get(spawn_id)
        return pending is not None and pending.released

    def go(self, spawn_id: str) -> None:
        self._send({"op": "go", "id": spawn_id})

    def signal(self, spawn_id: str, signum: int, group: bool = True) -> None:
        self._send({"op": "signal", "id": spawn_id, "signal": signum, "group": group})

    async def exited(self, spawn_id: str) -> ExitStatus:
        pending = self._pending.get(spawn_id)
        if pending is None:
            raise SandboxError("No such process in this sandbox.")
        try:
            return await asyncio.shield(pending.exited)
        finally:
            if pending.exited.done():
                self._pending.pop(spawn_id, None)

    def close(self) -> None:
        if self._sock.fileno() >= 0:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
            self._sock.close()
        self._fail_all()

    # --- receiving -------------------------------------------------------------

    def _send(self, message: dict[str, object], fds: list[int] | None = None) -> None:
        if self.closed.is_set():
            raise SandboxError("The sandbox has ended.")
        data = json.dumps(message).encode()
        ancillary = []
        if fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        try:
            # Small control messages into a socket nobody else writes: the
            # kernel buffer takes them at once unless the agent is stuck, in
            # which case failing is right.
            self._sock.sendmsg([data], ancillary)
        except (BlockingIOError, OSError) as exc:
            self._on_closed()
            raise SandboxError("The sandbox is not responding.") from exc

    def _on_readable(self) -> None:
        for _ in range(64):  # bounded work per wake-up; the loop comes back
            try:
                data, fds = self._receive()
            except BlockingIOError:
                return
            except ValueError:  # truncated; its descriptors are closed
                log.warning("dropped a truncated message from a sandbox agent")
                continue
            except OSError:
                self._on_closed()
                return
            try:
                if not data:
                    self._on_closed()
                    return
                self._dispatch(data, fds)
            except (ValueError, KeyError, TypeError):
                log.warning("dropped a malformed message from a sandbox agent")
            finally:
                # Each received descriptor has one owner: what the message's
                # handling did not take is closed here, once.
                for owned in fds:
                    owned.close()

    def _receive(self) -> tuple[bytes, list[OwnedFd]]:
        numbers = array.array("i")
        data, ancillary, flags, _ = self._sock.recvmsg(
            MAX_MESSAGE, socket.CMSG_SPACE(MAX_FDS * numbers.itemsize), socket.MSG_CMSG_CLOEXEC
        )
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                numbers.frombytes(payload[: len(payload) - (len(payload) % numbers.itemsize)])
        fds = [OwnedFd(fd) for fd in numbers]
        if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
            for owned in fds:
                owned.close()
            raise ValueError("truncated message")
        return data, fds

    def _dispatch(self, data: bytes, fds: list[OwnedFd]) -> None:
        """Act on one message. A descriptor kept is `take`n; the caller closes the rest."""
        message = json.loads(data)
        if not isinstance(message, dict):
            raise ValueError("not an object")
        op = message.get("op")
        if op == "pong":
            if self._pong is not None and not self._pong.done():
                self._pong.set_result(None)
            return
        if op == "spare":
            pid = message["pid"]
            if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
                raise ValueError("bad pid")
            if self.spares is not None:
                self.spares.announced(pid)
            return
        listen = self._listens.get(str(message.get("id")))
        if listen is not None:
            self._answer_listen(listen, op, message, fds)
            return
        pending = self._pending.get(str(message.get("id")))
        if pending is None:
            return
        if op == "spawned" and not pending.spawned.done():
            pid = message["pid"]
            if not isinstance(pid, int) or pid <= 0:
                raise ValueError("bad pid")
            master = fds[0] if fds else None
            if master is not None and not os.isatty(master.fd):
                raise ValueError("the PTY is not a terminal")
            pending.interpreter = _interpreter(message)
            pending.released = message.get("released") is True
            if self.spares is not None:
                self.spares.spawned(str(message["id"]), pid)
            pending.spawned.set_result((pid, master.take() if master is not None else None))
        elif op == "failed" and not pending.spawned.done():
            error = str(message.get("error", "unknown error"))[:200]
            pending.spawned.set_exception(SandboxError(f"The process could not start: {error}."))
        elif op == "exec_failed":
            pending.error = str(message.get("error", ""))[:300]
        elif op == "exited" and not pending.exited.done():
            code, sig = message.get("code"), message.get("signal")
            pending.exited.set_result(
                ExitStatus(
                    code=code if isinstance(code, int) else None,
                    signal=sig if isinstance(sig, int) else None,
                    error=pending.error,
                )
            )

    def _answer_listen(
        self,
        answer: asyncio.Future[socket.socket],
        op: object,
        message: dict[str, object],
        fds: list[OwnedFd],
    ) -> None:
        if answer.done():
            return
        if op == "failed":
            error = str(message.get("error", "unknown error"))[:200]
            answer.set_exception(SandboxError(f"The sandbox could not listen: {error}."))
        elif op == "listening" and len(fds) == 1:
            try:
                listener = socket.socket(fileno=fds[0].fd)
            except OSError:
                raise ValueError("not a socket") from None
            fds[0].take()  # the socket object owns it now
            # From an untrusted agent: it must be what was asked for.
            if (
                listener.family != socket.AF_INET
                or listener.type != socket.SOCK_STREAM
                or not listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
            ):
                listener.close()
                raise ValueError("not a listening TCP socket")
            listener.setblocking(False)
            answer.set_result(listener)
        else:
            raise ValueError("unexpected answer to listen")

    def _on_closed(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._sock.fileno())
        self._fail_all()

    def _fail_all(self) -> None:
        for pending in self._pending.values():
            if not pending.spawned.done():
                pending.spawned.set_exception(SandboxError("The sandbox has ended."))
            if not pending.exited.done():
                # The agent is gone, so nobody can report the exit: the
                # sandbox (and its processes) ended with it.
                pending.exited.set_result(ExitStatus(code=None, signal=9))
        if self._pong is not None and not self._pong.done():
            self._pong.set_exception(SandboxError("The sandbox ended while starting."))
        for answer in self._listens.values():
            if not answer.done():
                answer.set_exception(SandboxError("The sandbox has ended."))


def _interpreter(message: dict[str, object]) -> Interpreter | None:
    """The "interpreter" of a "spawned" answer, checked (an unknown reason is dropped)."""
    kind = message.get("interpreter")
    if kind == "warm":
        return Interpreter(warm=True)
    if kind != "fresh":
        return None
    why = message.get("why")
    detail = message.get("detail")
    return Interpreter(
        warm=False,
        why=why if isinstance(why, str) and why in FRESH_REASONS else None,
        detail=detail[:300] if isinstance(detail, str) and detail.isprintable() else None,
    )
