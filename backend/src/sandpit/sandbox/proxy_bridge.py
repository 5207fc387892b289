"""The sandbox's side of the package proxy: mounts, environment, and the forwarder.

Any backend does the same three things: mount the sandbox's socket directory
read-only at `PROXY_MOUNT` and the CA bundle at `CA_MOUNT`, give processes
`proxy_env()`, and serve the forwarder (`Forwarders`), which pipes
connections to the sandbox's own loopback at the proxy address to the
socket. The forwarder is socket-activated: it starts on the first
connection, not with the sandbox.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket

from sandpit.sandbox.base import ExecRequest, Sandbox, SandboxError

log = logging.getLogger(__name__)

PROXY_MOUNT = "/run/sandpit-proxy"
CA_MOUNT = "/run/sandpit-ca/ca.crt"
FORWARDER_HOST = "127.0.0.1"
FORWARDER_PORT = 3128
# Per forwarder; the proxy's own per-sandbox limit is lower. Each connection
# costs the forwarder two descriptors of the sandbox's 100.
FORWARDER_CONNECTIONS = 32
FORWARDER_GROUP = "proxy"
# An idle forwarder exits and gives its memory back; the next connection
# starts another.
FORWARDER_IDLE_EXIT_S = 60
RESTART_DELAY_S = 1.0


def proxy_env() -> dict[str, str]:
    """Variables that send HTTP(S) clients in the sandbox to the forwarder.

    Both spellings: pip and requests read either, curl only the lower-case
    `http_proxy`. The CA bundle variables make Python, pip and requests
    trust the bundle the server mounts (which includes the CA of a
    TLS-inspecting proxy in front of the server, when there is one).
    """
    url = f"http://{FORWARDER_HOST}:{FORWARDER_PORT}"
    no_proxy = "localhost,127.0.0.1,::1"
    return {
        "HTTPS_PROXY": url,
        "https_proxy": url,
        "HTTP_PROXY": url,
        "http_proxy": url,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
        "PIP_CERT": CA_MOUNT,
        "SSL_CERT_FILE": CA_MOUNT,
        "REQUESTS_CA_BUNDLE": CA_MOUNT,
    }


def forwarder_argv(support_mount: str) -> list[str]:
    """The forwarder's command line, given where a backend mounts `sandbox/inside/`.

    The listening socket is its descriptor 3 (`ExecRequest.extra_fds`).
    """
    return [
        "/usr/bin/python3",
        "-I",
        "-S",
        f"{support_mount}/forwarder.py",
        "3",
        f"{PROXY_MOUNT}/proxy.sock",
        str(FORWARDER_CONNECTIONS),
        str(FORWARDER_IDLE_EXIT_S),
    ]


async def serve_forwarder(sandbox: Sandbox, listener: socket.socket, argv: list[str]) -> None:
    """Start the forwarder on `listener`'s first pending connection, and again after it ends.

    Socket activation: the sandbox holds no forwarder (no process, no
    memory) until something in it connects to the proxy address, and a
    connection made while none runs waits in the listener's backlog, so
    none is lost when user code kills the forwarder or it exits idle.
    Returns when the sandbox ends; cancel it to stop earlier.
    """
    loop = asyncio.get_running_loop()
    failing = False
    while sandbox.ended_reason is None:
        readable: asyncio.Future[None] = loop.create_future()
        loop.add_reader(listener.fileno(), _set_once, readable)
        try:
            await readable
        finally:
            loop.remove_reader(listener.fileno())
        try:
            process = await sandbox.exec(
                ExecRequest(
                    argv=argv,
                    env={"LANG": "C.UTF-8"},
                    group=FORWARDER_GROUP,
                    extra_fds=[listener.fileno()],
                )
            )
        except (SandboxError, OSError):
            if sandbox.ended_reason is not None:
                return
            # E.g. user code holds all its processes: the connection waits,
            # and the next try comes after the delay (logged once a streak).
            if not failing:
                log.warning("sandbox %s: the forwarder could not start", sandbox.id, exc_info=True)
            failing = True
            await asyncio.sleep(RESTART_DELAY_S)
            continue
        failing = False
        try:
            # Nothing reads its standard streams (it writes nothing), so they
            # go now; `process.close()` closes only what it still holds.
            for name in ("stdin_fd", "stdout_fd", "stderr_fd"):
                fd = getattr(process, name)
                if fd is not None:
                    setattr(process, name, None)
                    os.close(fd)
            await process.wait()
        finally:
            process.close()
        # User code killing it in a loop gets at most one start a second.
        await asyncio.sleep(RESTART_DELAY_S)


def _set_once(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Forwarders:
    """The forwarder's listener of each live sandbox of one backend, served until it ends."""

    def __init__(self, support_mount: str) -> None:
        self._argv = forwarder_argv(support_mount)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, sandbox: Sandbox) -> None:
        """Listen at the proxy address in `sandbox`; without it the sandbox works, minus pip."""
        try:
            listener = await sandbox.listen(FORWARDER_HOST, FORWARDER_PORT)
        except SandboxError:
            log.exception("sandbox %s: the package proxy address is not available", sandbox.id)
            return
        task = asyncio.get_running_loop().create_task(
            serve_forwarder(sandbox, listener, self._argv)
        )
        task.add_done_callback(lambda _: listener.close())
        self._tasks[sandbox.id] = task

    def stop(self, sandbox_id: str) -> None:
        """Stop serving the forwarder of a sandbox that has ended."""
        task = self._tasks.pop(sandbox_id, None)
        if task is not None:
            task.cancel()
