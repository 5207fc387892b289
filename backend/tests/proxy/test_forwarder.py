"""The forwarder (sandbox/inside/forwarder.py) as a real process, in front of a real proxy.

It runs here with this Python in isolated mode, as it does in the sandbox
with the image's: given a TCP listener on a loopback port, as the server
gives it one (socket activation), with the endpoint's Unix socket out.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator

import pytest

from sandpit.proxy.server import Endpoint
from sandpit.sandbox.layout import INSIDE_DIR
from tests.proxy.conftest import Connection, IndexTarget, read_head

MAX_CONNECTIONS = 3
IDLE_EXIT_S = 60


class RunningForwarder:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    async def connection(self) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return Connection(reader, writer)


def listening() -> socket.socket:
    """What the agent hands the server: a TCP listener on a loopback port."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    return listener


async def start_forwarder(
    listener: socket.socket, endpoint: Endpoint, idle_exit_s: float = IDLE_EXIT_S
) -> asyncio.subprocess.Process:
    """The forwarder as the server starts it, given the listener's descriptor."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        str(INSIDE_DIR / "forwarder.py"),
        str(listener.fileno()),
        str(endpoint.socket_path),
        str(MAX_CONNECTIONS),
        str(idle_exit_s),
        stdin=asyncio.subprocess.DEVNULL,
        pass_fds=[listener.fileno()],
    )


@pytest.fixture
async def forwarder(endpoint: Endpoint) -> AsyncIterator[RunningForwarder]:
    listener = listening()
    process = await start_forwarder(listener, endpoint)
    yield RunningForwarder(process, listener.getsockname()[1])
    process.kill()
    await process.wait()
    listener.close()


async def test_tunnels_tls_to_the_index(
    index_endpoint: Endpoint, index_target: IndexTarget
) -> None:
    listener = listening()
    process = await start_forwarder(listener, index_endpoint)
    try:
        client = await RunningForwarder(process, listener.getsockname()[1]).connection()
        assert (await client.connect(index_target.authority)).status == 200
        path = "/simple/sandpit-probe/"
        assert await client.tls_get(index_target.host, path, index_target.ca_bundle) == 200
        client.close()
    finally:
        process.kill()
        await process.wait()
        listener.close()


async def test_passes_refusals_through_and_closes(forwarder: RunningForwarder) -> None:
    client = await forwarder.connection()
    answer = await client.connect("example.com:443")
    assert answer.status == 403
    assert (
        answer.reason == "Sandpit's package proxy only allows pypi.org and files.pythonhosted.org."
    )
    assert await client.closed_by_peer(within=10)
    client.close()


async def test_a_request_split_in_pieces_and_a_half_close(forwarder: RunningForwarder) -> None:
    client = await forwarder.connection()
    for piece in (b"GET http://pypi.org/", b" HTTP/1.1\r\nHost: pypi.org", b"\r\n\r\n"):
        client.writer.write(piece)
        await client.writer.drain()
        await asyncio.sleep(0.05)
    client.writer.write_eof()  # the answer still comes back after our end of file
    status, _, _ = await read_head(client.reader)
    assert status == 405
    client.close()


async def test_connections_beyond_its_cap_are_closed(forwarder: RunningForwarder) -> None:
    held = [await forwarder.connection() for _ in range(MAX_CONNECTIONS)]
    for client in held:
        client.writer.write(b"CONNECT pypi.org:443 HTTP/1.1\r\n")  # unfinished: stays open
    await asyncio.sleep(0.3)
    extra = await forwarder.connection()
    assert await extra.closed_by_peer(within=10)
    held[0].close()
    await asyncio.sleep(0.3)
    again = await forwarder.connection()
    assert (await again.connect("example.com:443")).status == 403
    for client in (*held, extra, again):
        client.close()


async def test_proxy_gone_closes_the_client(
    forwarder: RunningForwarder, endpoint: Endpoint
) -> None:
    endpoint.close()
    client = await forwarder.connection()
    assert await client.closed_by_peer(within=10)
    client.close()


async def test_a_connection_made_before_it_starts_is_served(endpoint: Endpoint) -> None:
    # Socket activation: the server starts the forwarder when a connection
    # is already waiting in the listener's backlog.
    listener = listening()
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
    client = Connection(reader, writer)
    process = await start_forwarder(listener, endpoint)
    try:
        assert (await client.connect("example.com:443")).status == 403
    finally:
        client.close()
        process.kill()
        await process.wait()
        listener.close()


async def test_it_exits_when_idle_and_the_listener_keeps_what_comes_next(
    endpoint: Endpoint,
) -> None:
    listener = listening()
    started = time.monotonic()
    process = await start_forwarder(listener, endpoint, idle_exit_s=0.5)
    client = await RunningForwarder(process, listener.getsockname()[1]).connection()
    assert (await client.connect("example.com:443")).status == 403  # it serves, then...
    client.close()
    assert await asyncio.wait_for(process.wait(), 10) == 0  # ...exits once idle
    assert time.monotonic() - started >= 0.5
    # A connection now waits in the backlog; the next forwarder serves it.
    waiting = await RunningForwarder(process, listener.getsockname()[1]).connection()
    process = await start_forwarder(listener, endpoint)
    try:
        assert (await waiting.connect("example.com:443")).status == 403
    finally:
        waiting.close()
        process.kill()
        await process.wait()
        listener.close()
