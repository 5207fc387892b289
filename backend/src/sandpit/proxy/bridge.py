"""The sandbox's side of the package proxy: mounts, environment, and the forwarder.

Any backend does the same three things: mount the sandbox's socket directory
read-only at `PROXY_MOUNT` and the CA bundle at `CA_MOUNT`, give processes
`proxy_env()`, and keep the forwarder running (`Forwarders`), which
listens on the sandbox's own loopback and pipes to the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select

from sandpit.sandbox.base import ExecRequest, Process, Sandbox, SandboxError

log = logging.getLogger(__name__)

PROXY_MOUNT = "/run/sandpit-proxy"
CA_MOUNT = "/run/sandpit-ca/ca.crt"
FORWARDER_HOST = "127.0.0.1"
FORWARDER_PORT = 3128
# Per forwarder; the proxy's own per-sandbox limit is lower. Each connection
# costs the forwarder two descriptors of the sandbox's 100.
FORWARDER_CONNECTIONS = 32
FORWARDER_GROUP = "proxy"
READY_TIMEOUT_S = 10.0
RESTARTS = 10
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
    """The forwarder's command line, given where a backend mounts `sandbox/inside/`."""
    return [
        "/usr/bin/python3",
        "-I",
        "-S",
        f"{support_mount}/forwarder.py",
        FORWARDER_HOST,
        str(FORWARDER_PORT),
        f"{PROXY_MOUNT}/proxy.sock",
        str(FORWARDER_CONNECTIONS),
    ]


async def start_forwarder(sandbox: Sandbox, argv: list[str]) -> Process:
    """Start the forwarder in its own group and wait until it listens.

    Raises `SandboxError` if it does not say "ready" in time (it is then killed).
    """
    process = await sandbox.exec(
        ExecRequest(argv=argv, env={"LANG": "C.UTF-8"}, group=FORWARDER_GROUP)
    )
    try:
        stdout = process.stdout_fd
        ready = stdout is not None and await asyncio.to_thread(_read_ready, stdout)
    finally:
        # Nothing is read after "ready": the forwarder points its streams
        # at /dev/null, so closing our ends costs it nothing.
        for fd in (process.stdin_fd, process.stdout_fd, process.stderr_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        process.stdin_fd = process.stdout_fd = process.stderr_fd = None
    if not ready:
        await process.kill_group()
        process.close()
        raise SandboxError("The package proxy's forwarder did not start.")
    return process


def _read_ready(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], READY_TIMEOUT_S)
    return bool(ready) and os.read(fd, 16).startswith(b"ready")


async def keep_forwarder(sandbox: Sandbox, argv: list[str], process: Process) -> None:
    """Restart the forwarder when it ends while the sandbox runs (at most `RESTARTS` times).

    User code runs as the same user and may kill it (`pkill python`); pip
    should not stay broken for the rest of the sandbox's life. Cancel this
    task when the sandbox ends.
    """
    restarts = 0
    while True:
        try:
            await process.wait()
        finally:
            process.close()
        await asyncio.sleep(RESTART_DELAY_S)
        if sandbox.ended_reason is not None:
            return
        if restarts == RESTARTS:
            log.warning("sandbox %s: the package proxy forwarder keeps ending", sandbox.id)
            return
        restarts += 1
        log.info("restarting the package proxy forwarder in sandbox %s", sandbox.id)
        try:
            process = await start_forwarder(sandbox, argv)
        except Exception:  # the sandbox ended meanwhile, or is broken: nothing to keep
            log.warning(
                "sandbox %s: the forwarder could not be restarted", sandbox.id, exc_info=True
            )
            return


class Forwarders:
    """The forwarder of each live sandbox of one backend, kept running until it ends."""

    def __init__(self, support_mount: str) -> None:
        self._argv = forwarder_argv(support_mount)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def start(self, sandbox: Sandbox) -> None:
        """Start the forwarder and keep it running; without it the sandbox works, minus pip."""
        try:
            process = await start_forwarder(sandbox, self._argv)
        except Exception:
            log.exception("sandbox %s: the package proxy forwarder did not start", sandbox.id)
            return
        task = asyncio.get_running_loop().create_task(keep_forwarder(sandbox, self._argv, process))
        self._tasks[sandbox.id] = task

    def stop(self, sandbox_id: str) -> None:
        """Stop keeping the forwarder of a sandbox that has ended."""
        task = self._tasks.pop(sandbox_id, None)
        if task is not None:
            task.cancel()
