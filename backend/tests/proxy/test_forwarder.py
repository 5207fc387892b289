"""The forwarder (sandbox/inside/forwarder.py) as a real process, in front of a real proxy.

It runs here with this Python in isolated mode, as it does in the sandbox
with the image's: TCP on a loopback port in, the endpoint's Unix socket out.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from sandpit.proxy.server import Endpoint
from sandpit.sandbox.bubblewrap import INSIDE_DIR
from tests.proxy.conftest import Connection, read_head
from tests.servers import free_port

MAX_CONNECTIONS = 3


class RunningForwarder:
    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    async def connection(self) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return Connection(reader, writer)


@pytest.fixture
async def forwarder(endpoint: Endpoint) -> AsyncIterator[RunningForwarder]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        "-S",
        str(INSIDE_DIR / "forwarder.py"),
        "127.0.0.1",
        str(port),
        str(endpoint.socket_path),
        str(MAX_CONNECTIONS),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 10) == b"ready\n"
    yield RunningForwarder(process, port)
    process.kill()
    await process.wait()


async def test_tunnels_tls_to_the_index(forwarder: RunningForwarder) -> None:
    client = await forwarder.connection()
    assert (await client.connect("pypi.org:443")).status == 200
    assert await client.tls_get("pypi.org", "/simple/idna/") == 200
    client.close()


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
