"""One editor's language servers: a sandbox of their own with pyrefly and `ruff server`.

The servers read untrusted files, so they run under the same isolation as
user code, in a separate sandbox (the user's program keeps its whole memory
limit): the workspace mounted read-only at /app (with its `.local`, so what
the user installed with pip is known), no package proxy and no network, and
limits of its own (`LspSettings`). The sandbox lives exactly as long as the
session.

Legal states: starting → running → ended. `ended` resolves with why
("crashed": a server exited or wrote something that is not LSP; "closed": on
request). A session never restarts: the client reconnects and gets a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sandpit.config import Settings
from sandpit.lsp.framing import FrameError, FrameReader
from sandpit.lsp.mux import Message, Mux, Server
from sandpit.lsp.pipes import FrameWriter, read_bodies
from sandpit.sandbox.base import ExecRequest, Process, Sandbox, SandboxBackend, SandboxSpec
from sandpit.sandbox.environment import base_env
from sandpit.sandbox.limits import Limits

log = logging.getLogger(__name__)

COMMANDS: dict[Server, list[str]] = {
    "main": ["pyrefly", "lsp"],
    "ruff": ["ruff", "server"],
}
Deliver = Callable[[str], Awaitable[None]]
# A server's answers can be large (pyrefly's completion of `np.` is ~0.8 MB):
# this only bounds the buffer against a server gone wrong.
SERVER_MESSAGE_MAX_BYTES = 32 * 1024 * 1024


class ProtocolError(ValueError):
    """A client message that is not one JSON-RPC object."""


@dataclass(frozen=True)
class LspSettings:
    limits: Limits


def lsp_settings(settings: Settings) -> LspSettings:
    """The language servers' sandbox limits and message cap, from the server's settings."""
    memory = settings.lsp_memory_mb * 1024 * 1024
    return LspSettings(
        limits=Limits(
            memory_bytes=memory,
            memory_swap_bytes=memory,
            cpus=settings.lsp_cpus,
            pids=settings.lsp_pids,
            # pyrefly keeps the files it reads open briefly, many at once.
            open_files=512,
            tmp_bytes=64 * 1024 * 1024,
            # The session ends them; these only bound a leak.
            lifetime_s=24 * 3600,
            idle_s=24 * 3600,
        ),
    )


def lsp_env() -> dict[str, str]:
    """The servers' environment: the sandbox's, without the package proxy, caches in /tmp.

    Without PYTHONPATH: pyrefly treats files found through it as a library's
    and reports no errors in them, and /app is on it (the project root is
    searched anyway).
    """
    env = {**base_env(package_proxy=False), "XDG_CACHE_HOME": "/tmp/.cache"}  # noqa: S108
    del env["PYTHONPATH"]
    return env


class LanguageSession:
    def __init__(self, sandbox: Sandbox, deliver: Deliver) -> None:
        self.sandbox = sandbox
        self.processes: dict[Server, Process] = {}
        self._deliver = deliver
        self._mux = Mux()
        self._writers: dict[Server, FrameWriter] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @classmethod
    async def start(
        cls,
        backend: SandboxBackend,
        *,
        workspace_id: str,
        workspace_dir: Path,
        owner: str,
        settings: LspSettings,
        deliver: Deliver,
    ) -> LanguageSession:
        """Start the sandbox and both servers. Raises `SandboxError` if it cannot."""
        spec = SandboxSpec(
            sandbox_id=uuid.uuid4().hex,
            workspace_id=workspace_id,
            workspace_dir=workspace_dir,
            limits=settings.limits,
            owner=owner,
            workspace_read_only=True,
            package_proxy=False,
            # The user's own sandbox keeps its files; these servers only read them,
            # through the workspace's group (`SandboxSpec.share_workspace`).
            share_workspace=True,
        )
        sandbox = await backend.start(spec)
        session = cls(sandbox, deliver)
        try:
            for server, argv in COMMANDS.items():
                request = ExecRequest(argv=argv, env=lsp_env(), group=f"lsp-{server}")
                session._attach(server, await sandbox.exec(request))
        except BaseException:
            await session.close()
            raise
        return session

    def _attach(self, server: Server, process: Process) -> None:
        assert process.stdin_fd is not None
        assert process.stdout_fd is not None
        self.processes[server] = process
        self._writers[server] = FrameWriter(process.stdin_fd)
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self._pump(server, process.stdout_fd)))
        if process.stderr_fd is not None:
            self._tasks.append(loop.create_task(_drain(process.stderr_fd)))

    async def _pump(self, server: Server, fd: int) -> None:
        async def on_body(body: bytes) -> None:
            try:
                message = json.loads(body)
            except ValueError as exc:
                raise FrameError("a server wrote something that is not JSON") from exc
            if isinstance(message, dict):
                for out in self._mux.from_server(server, message):
                    # Passed on unchanged (most are): the server's own bytes, not
                    # a re-encoding (a completion list can be most of a megabyte).
                    text = body.decode() if out is message else json.dumps(out)
                    await self._deliver(text)

        try:
            await read_bodies(fd, FrameReader(SERVER_MESSAGE_MAX_BYTES), on_body)
            log.info("language server %s ended", server)
        except FrameError as exc:
            log.warning("language server %s: %s", server, exc)
        except Exception:  # the client went away: the socket handler ends the session
            log.debug("language server %s: delivery failed", server, exc_info=True)
        self._end("crashed")

    def _end(self, reason: str) -> None:
        if not self.ended.done():
            self.ended.set_result(reason)

    async def from_client(self, text: str) -> None:
        """Route one client message to the servers. Raises `ProtocolError` if malformed."""
        try:
            message: Message = json.loads(text)
        except ValueError as exc:
            raise ProtocolError("A message is not JSON.") from exc
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            raise ProtocolError("A message is not a JSON-RPC 2.0 object.")
        for destination, out in self._mux.from_client(message):
            if destination == "client":
                await self._deliver(json.dumps(out))
                continue
            try:
                await self._writers[destination].write(json.dumps(out).encode())
            except OSError:
                self._end("crashed")

    async def close(self) -> None:
        """Stop both servers and the sandbox. Idempotent."""
        self._end("closed")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for process in self.processes.values():
            with contextlib.suppress(Exception):
                await process.kill_group()
            process.close()
        await self.sandbox.stop()


async def _drain(fd: int) -> None:
    """Read and drop a server's log output so it never blocks on a full pipe."""
    with contextlib.suppress(FrameError, OSError):
        await read_bodies(fd, _Discard(), _ignore)


class _Discard(FrameReader):
    def __init__(self) -> None:
        super().__init__(0)

    def feed(self, data: bytes) -> list[bytes]:
        return []


async def _ignore(body: bytes) -> None:
    return None
