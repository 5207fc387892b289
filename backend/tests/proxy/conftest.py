"""Fixtures for the package proxy: a real proxy on temporary Unix sockets, and a client.

`make_proxy(**limits)` builds a `PackageProxy` (allowlist overridable) whose
sockets live in a fresh directory; `client` helpers speak to it as pip would.
Tunnels go to the tests' own index (`index`, local_index.py: on this host,
TLS with a test CA), allowed as a local target, so no test here needs the
live index; refusals still name the real index's hosts.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandpit.config import Settings
from sandpit.proxy.limits import ProxyLimits
from sandpit.proxy.policy import Allowlist
from sandpit.proxy.server import Endpoint, PackageProxy
from tests.proxy.local_index import HOST, LocalIndex, local_index

DEFAULT_ALLOWED = ["pypi.org:443", "files.pythonhosted.org:443"]
# The bundle the server mounts into sandboxes by default; the host trusts it too.
CA_BUNDLE = Settings.model_fields["package_proxy_ca_bundle"].default


@dataclass
class Answer:
    """A proxy's answer: status code, reason phrase, body (empty for 200)."""

    status: int
    reason: str
    body: bytes


async def read_head(reader: asyncio.StreamReader) -> tuple[int, str, dict[str, str]]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
    lines = head.decode("latin-1").split("\r\n")
    _version, status, reason = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status), reason, headers


class Connection:
    """One client connection to a proxy socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: Path) -> Connection:
        reader, writer = await asyncio.open_unix_connection(path)
        return cls(reader, writer)

    async def ask(self, head: bytes) -> Answer:
        """Send a request head; the status, reason and (for a refusal) the body."""
        self.writer.write(head)
        await self.writer.drain()
        status, reason, headers = await read_head(self.reader)
        body = b""
        if status != 200:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return Answer(status, reason, body)

    async def connect(self, target: str) -> Answer:
        return await self.ask(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())

    async def closed_by_peer(self, within: float) -> bool:
        """True if the proxy closes the connection within `within` seconds."""
        try:
            data = await asyncio.wait_for(self.reader.read(65536), within)
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        while data:
            data = await asyncio.wait_for(self.reader.read(65536), within)
        return True

    async def tls_get(self, host: str, path: str, cafile: Path = CA_BUNDLE) -> int:
        """Over an established tunnel: TLS to `host`, `GET path`; the HTTP status."""
        context = ssl.create_default_context(cafile=str(cafile))
        await self.writer.start_tls(context, server_hostname=host)
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/html\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await self.writer.drain()
        status, _, _ = await read_head(self.reader)
        return status

    def close(self) -> None:
        self.writer.transport.abort()


@pytest.fixture
def socket_root(tmp_path: Path) -> Path:
    return tmp_path / "proxy"


ProxyFactory = Callable[..., PackageProxy]


@pytest.fixture
async def make_proxy(socket_root: Path) -> AsyncIterator[ProxyFactory]:
    made: list[PackageProxy] = []

    def make(
        allowed: list[str] | None = None, local: Sequence[str] = (), **limits: float
    ) -> PackageProxy:
        proxy = PackageProxy(
            Allowlist.parse(DEFAULT_ALLOWED if allowed is None else allowed, local),
            ProxyLimits(**limits),  # type: ignore[arg-type]
            socket_root,
        )
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        await proxy.close()


@pytest.fixture
async def endpoint(make_proxy: ProxyFactory) -> Endpoint:
    """A sandbox's endpoint on a proxy with the default allowlist and limits."""
    return await make_proxy().attach("sandbox1", "workspace1")


@pytest.fixture(scope="session")
def index() -> Iterator[LocalIndex]:
    with local_index() as served:
        yield served


@dataclass
class IndexTarget:
    """Where a tunnel to the tests' index goes: CONNECT `authority`, TLS to `host`."""

    authority: str
    host: str
    ca_bundle: Path


@pytest.fixture
def index_target(index: LocalIndex) -> IndexTarget:
    return IndexTarget(index.authority, HOST, index.ca_bundle)


@pytest.fixture
def with_index(make_proxy: ProxyFactory, index: LocalIndex) -> ProxyFactory:
    """Like `make_proxy`, with the tests' index allowed (a local target) besides the default."""

    def make(**limits: float) -> PackageProxy:
        allowed = [*DEFAULT_ALLOWED, index.authority]
        return make_proxy(allowed=allowed, local=[index.authority], **limits)

    return make


@pytest.fixture
async def index_endpoint(with_index: ProxyFactory) -> Endpoint:
    """A sandbox's endpoint on a proxy that allows the tests' index too."""
    return await with_index().attach("sandbox1", "workspace1")


Opener = Callable[[Path], Awaitable[Connection]]


@pytest.fixture
async def connections() -> AsyncIterator[Opener]:
    """Opens client connections and closes them after the test."""
    opened: list[Connection] = []

    async def open_one(path: Path) -> Connection:
        connection = await Connection.open(path)
        opened.append(connection)
        return connection

    yield open_one
    for connection in opened:
        connection.close()


class Listener:
    """A TCP listener on every host address, counting the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("", 0), family=socket.AF_INET6, dualstack_ipv6=True)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                self.sock.accept()[0].close()
            except BlockingIOError:
                return count
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    made = Listener()
    yield made
    made.sock.close()
