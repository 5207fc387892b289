"""The package proxy: CONNECT tunnels from one Unix socket per sandbox to allowed hosts.

`PackageProxy.attach` gives a sandbox its own socket (in a directory made for
it alone) and returns an `Endpoint`; `Endpoint.close` ends the socket and
every tunnel through it. One connection on a socket is one request:

    CONNECT pypi.org:443 HTTP/1.1      → 200, then bytes both ways until either
                                          side closes or a limit ends the tunnel
    anything else                      → 4xx/5xx with a sentence, then close

Checks, in order: the sandbox's connections at once, its owner's (a user's,
across their sandboxes) and the server's (429), the request head's
size (431) and time to arrive (408), the method (405), the target against
the allowlist (403), the workspace's byte allowance (429), the name's
resolution (502) and every resolved address against the forbidden ranges
and the host's own addresses (403). The tunnel then goes to an address that
passed, never to a name resolved again. Every tunnel and refusal is logged
with the sandbox, the workspace, the target, the bytes and the duration;
refusals at most `ProxyLimits.refusal_logs` a minute per sandbox (the next
line says how many were left out), so a loop of refused requests cannot
fill the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandpit.proxy.limits import Allowance, MiB, ProxyLimits
from sandpit.proxy.policy import Allowlist, HostAddresses, forbidden_reason
from sandpit.proxy.protocol import (
    ESTABLISHED,
    ConnectRequest,
    Refusal,
    find_head_end,
    parse_connect,
    refusal_response,
)
from sandpit.proxy.refusals import RefusalLog
from sandpit.proxy.resolver import Resolver

log = logging.getLogger(__name__)

SOCKET_NAME = "proxy.sock"
CHUNK = 64 * 1024
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class _TunnelEnd(Exception):
    """Ends a tunnel early; the argument is the reason the log gives."""


@dataclass
class _Tunnel:
    started: float
    last_active: float
    target: str = "-"
    address: str = "-"
    sent: int = 0  # sandbox → upstream
    received: int = 0  # upstream → sandbox


@dataclass
class Endpoint:
    """One sandbox's socket on the proxy. Close it when the sandbox ends."""

    sandbox_id: str
    workspace_id: str
    directory: Path
    owner: str = ""  # whose sandbox (a user id); its connections count together
    server: asyncio.Server | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    closed: bool = False

    @property
    def socket_path(self) -> Path:
        return self.directory / SOCKET_NAME

    def close(self) -> None:
        """Stop accepting, end every tunnel, remove the socket. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
        _remove_socket_dir(self.directory)


class PackageProxy:
    """The proxy for every sandbox of one server. See the module docstring."""

    def __init__(
        self,
        allowlist: Allowlist,
        limits: ProxyLimits,
        socket_root: Path,
        *,
        addresses: HostAddresses | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowlist = allowlist
        self.limits = limits
        self.socket_root = socket_root
        self._addresses = addresses or HostAddresses()
        self._clock = clock
        self.allowance = Allowance(limits.window_bytes, limits.window_s, clock)
        self._resolver = Resolver(clock=clock)
        self.endpoints: dict[str, Endpoint] = {}
        self._connections: dict[str, int] = {}
        self._owner_connections: dict[str, int] = {}
        self._total = 0
        self._refusals = RefusalLog(limits.refusal_logs, limits.refusal_log_s, clock)

    def reap(self) -> None:
        """Remove the socket directories a previous server process left."""
        if not self.socket_root.is_dir():
            return
        for entry in self.socket_root.iterdir():
            if entry.name not in self.endpoints:
                try:
                    _remove_socket_dir(entry)
                except OSError as exc:  # not ours to delete: say so, and go on
                    log.warning("proxy: left %s in place: %s", entry, exc)

    async def attach(
        self,
        sandbox_id: str,
        workspace_id: str,
        owner_uid: int | None = None,
        *,
        owner: str = "",
    ) -> Endpoint:
        """Make sandbox `sandbox_id`'s socket: `socket_root/<sandbox_id>/proxy.sock`.

        `owner` names whose sandbox it is (a user id): the owner's sandboxes
        share `ProxyLimits.owner_connections`, so no one user can take the
        server's pool. Empty: the workspace stands for the owner.

        The directory is the server's (mode 0711) and should be mounted
        read-only into that sandbox alone. The socket belongs to `owner_uid`
        with mode 0600 (the host uid the sandbox runs as), or is 0666 when
        `owner_uid` is None (a backend whose uid is not known; the directory
        is still visible to that sandbox only).
        """
        if not _SAFE_ID.fullmatch(sandbox_id) or sandbox_id in self.endpoints:
            raise ValueError(f"bad or duplicate sandbox id {sandbox_id!r}")
        endpoint = Endpoint(
            sandbox_id,
            workspace_id,
            self.socket_root / sandbox_id,
            owner or f"workspace:{workspace_id}",
        )
        sock = await asyncio.to_thread(_listening_socket, endpoint.directory, owner_uid)
        try:
            endpoint.server = await asyncio.start_unix_server(
                lambda r, w: self._serve(endpoint, r, w), sock=sock
            )
        except BaseException:
            sock.close()
            _remove_socket_dir(endpoint.directory)
            raise
        self.endpoints[sandbox_id] = endpoint
        self.allowance.prune()
        return endpoint

    def detach(self, sandbox_id: str) -> None:
        """Close sandbox `sandbox_id`'s endpoint, if it has one."""
        endpoint = self.endpoints.pop(sandbox_id, None)
        self._refusals.forget(sandbox_id)
        if endpoint is not None:
            endpoint.close()

    async def close(self) -> None:
        """Close every endpoint and wait for their tunnels to end."""
        tasks = [task for endpoint in self.endpoints.values() for task in endpoint.tasks]
        for sandbox_id in list(self.endpoints):
            self.detach(sandbox_id)
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- one connection ---------------------------------------------------------

    async def _serve(
        self, endpoint: Endpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """One connection: admit it (or refuse 429), then serve its one request."""
        task = asyncio.current_task()
        assert task is not None
        if endpoint.closed:
            writer.transport.abort()
            return
        busy: Refusal | None = None
        if self._connections.get(endpoint.sandbox_id, 0) >= self.limits.connections:
            busy = Refusal(
                429,
                f"Too many connections through the package proxy at once (at most "
                f"{self.limits.connections} per sandbox); try again when some finish.",
            )
        elif self._owner_connections.get(endpoint.owner, 0) >= self.limits.owner_connections:
            busy = Refusal(
                429,
                f"Too many connections through the package proxy at once from your sandboxes "
                f"(at most {self.limits.owner_connections}); try again when some finish.",
                log_reason="over the owner's share",
            )
        elif self._total >= self.limits.total_connections:
            busy = Refusal(429, "The package proxy is busy; try again in a minute.")
        if busy is not None:
            await self._refuse(endpoint, "-", busy, writer)
            return
        self._connections[endpoint.sandbox_id] = self._connections.get(endpoint.sandbox_id, 0) + 1
        self._owner_connections[endpoint.owner] = self._owner_connections.get(endpoint.owner, 0) + 1
        self._total += 1
        endpoint.tasks.add(task)
        try:
            await self._tunnel(endpoint, reader, writer)
        finally:
            self._total -= 1
            for counts, key in (
                (self._connections, endpoint.sandbox_id),
                (self._owner_connections, endpoint.owner),
            ):
                counts[key] -= 1
                if not counts[key]:
                    del counts[key]
            endpoint.tasks.discard(task)

    async def _tunnel(
        self, endpoint: Endpoint, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        tunnel = _Tunnel(started=self._clock(), last_active=self._clock())
        upstream: asyncio.StreamWriter | None = None
        end = "connection lost"
        try:
            request, early = await self._read_request(reader)
            tunnel.target = f"{request.host}:{request.port}"
            tunnel.address, up_reader, upstream = await self._open_upstream(endpoint, request)
            writer.write(ESTABLISHED)
            if early:  # a client may send its TLS hello right behind the head
                tunnel.sent += len(early)
                self.allowance.add(endpoint.workspace_id, len(early))
                upstream.write(early)
            end = await self._relay(endpoint, tunnel, reader, writer, up_reader, upstream)
        except Refusal as refusal:
            end = ""  # answered and logged by `_refuse`
            await self._refuse(endpoint, tunnel.target, refusal, writer)
        except asyncio.CancelledError:
            end = "sandbox ended"
            raise
        except (ConnectionError, OSError, TimeoutError):
            end = "connection lost"
        except Exception:
            end = "proxy error"
            log.exception("proxy: unexpected error in sandbox %s", endpoint.sandbox_id)
        finally:
            if end:
                for stream in (writer, upstream):
                    if stream is not None and end == "closed":
                        stream.close()  # both ways ended and drained: closes at once
                    elif stream is not None:
                        stream.transport.abort()
                log.info(
                    "proxy tunnel: sandbox=%s workspace=%s target=%s address=%s "
                    "sent=%d received=%d seconds=%.1f end=%s",
                    endpoint.sandbox_id,
                    endpoint.workspace_id,
                    tunnel.target,
                    tunnel.address,
                    tunnel.sent,
                    tunnel.received,
                    self._clock() - tunnel.started,
                    end,
                )

    async def _refuse(
        self, endpoint: Endpoint, target: str, refusal: Refusal, writer: asyncio.StreamWriter
    ) -> None:
        """Log the refusal (within the sandbox's log budget), send its response, close
        (abort if the client does not read)."""
        self._refusals.record(endpoint.sandbox_id, endpoint.workspace_id, target, refusal)
        try:
            writer.write(refusal_response(refusal.status, refusal.sentence))
            await asyncio.wait_for(writer.drain(), 5)
        except (ConnectionError, OSError, TimeoutError):
            writer.transport.abort()
        else:
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader) -> tuple[ConnectRequest, bytes]:
        """The CONNECT request and any bytes that came right after its head."""
        buffer = bytearray()
        limit = self.limits.header_bytes
        try:
            async with asyncio.timeout(self.limits.header_timeout_s):
                while (end := find_head_end(buffer)) < 0 and len(buffer) <= limit:
                    chunk = await reader.read(4096)
                    if not chunk:
                        raise ConnectionResetError("closed before the request ended")
                    buffer += chunk
        except TimeoutError:
            raise Refusal(408, "The request to the package proxy took too long.") from None
        if end < 0 or end > limit:
            raise Refusal(
                431,
                f"The request to the package proxy is too large (at most {limit} bytes).",
            )
        request = parse_connect(
            bytes(buffer[:end]),
            not_connect=(
                "Sandpit's package proxy only relays HTTPS (CONNECT) to "
                + self.allowlist.refusal().removeprefix("Sandpit's package proxy only allows ")
            ),
        )
        return request, bytes(buffer[end:])

    async def _open_upstream(
        self, endpoint: Endpoint, request: ConnectRequest
    ) -> tuple[str, asyncio.StreamReader, asyncio.StreamWriter]:
        """Check the target, resolve it, connect; (address, reader, writer) or `Refusal`."""
        host, port = request.host, request.port
        if not self.allowlist.allows(host, port):
            raise Refusal(403, self.allowlist.refusal(), log_reason="not on the allowlist")
        if self.allowance.exhausted(endpoint.workspace_id):
            mib = self.limits.window_bytes // MiB
            minutes = round(self.limits.window_s / 60)
            raise Refusal(
                429,
                f"This workspace has used its package download allowance ({mib} MiB per "
                f"{minutes} minutes); try again later.",
            )
        try:
            async with asyncio.timeout(self.limits.connect_timeout_s):
                addresses = await self._resolver.resolve(host, port)
                candidates = self._permitted(host, port, addresses)
                return await self._connect(host, port, candidates)
        except TimeoutError:
            raise Refusal(504, f"{host} did not answer in time; try again later.") from None
        except socket.gaierror:
            raise Refusal(502, f"The package proxy could not find {host}.") from None

    def _permitted(self, host: str, port: int, addresses: Sequence[str]) -> list[str]:
        """The addresses it may connect to; `Refusal` 403 if none (checked on every request)."""
        if self.allowlist.may_be_local(host, port):
            return list(dict.fromkeys(str(ipaddress.ip_address(text)) for text in addresses))
        own = self._addresses.current()
        permitted: list[str] = []
        reasons: list[str] = []
        for text in addresses:
            address = ipaddress.ip_address(text)
            reason = forbidden_reason(address, own)
            if reason is None:
                permitted.append(str(address))
            else:
                reasons.append(f"{address} ({reason})")
        if not permitted:
            raise Refusal(
                403,
                f"{host} resolves to an address Sandpit's package proxy never connects to.",
                log_reason="forbidden address: " + ", ".join(reasons),
            )
        if reasons:
            log.warning("proxy: %s also resolved to %s; not used", host, ", ".join(reasons))
        return list(dict.fromkeys(permitted))

    async def _connect(
        self, host: str, port: int, addresses: list[str]
    ) -> tuple[str, asyncio.StreamReader, asyncio.StreamWriter]:
        error: OSError | None = None
        for address in addresses:
            try:
                reader, writer = await asyncio.open_connection(address, port)
            except OSError as exc:
                error = exc
                continue
            return address, reader, writer
        raise Refusal(
            502, f"The package proxy could not reach {host}.", log_reason=f"connect: {error}"
        )

    async def _relay(
        self,
        endpoint: Endpoint,
        tunnel: _Tunnel,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> str:
        """Copy bytes both ways until both sides close or a limit ends it; why it ended."""
        pumps = [
            asyncio.create_task(self._pump(endpoint, tunnel, client_reader, up_writer, up=True)),
            asyncio.create_task(self._pump(endpoint, tunnel, up_reader, client_writer, up=False)),
        ]
        try:
            done, pending = await asyncio.wait(
                pumps, timeout=self.limits.connection_s, return_when=asyncio.FIRST_EXCEPTION
            )
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
        for pump in done:
            if not pump.cancelled() and (error := pump.exception()) is not None:
                if isinstance(error, _TunnelEnd):
                    return str(error)
                return "connection lost"
        return "closed" if not pending else "lifetime"

    async def _pump(
        self,
        endpoint: Endpoint,
        tunnel: _Tunnel,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        *,
        up: bool,
    ) -> None:
        idle = self.limits.idle_s
        while True:
            # Idle means no bytes either way: a long download keeps the
            # quiet upload direction alive.
            left = tunnel.last_active + idle - self._clock()
            if left <= 0:
                raise _TunnelEnd("idle")
            try:
                data = await asyncio.wait_for(source.read(CHUNK), left)
            except TimeoutError:
                continue
            if not data:
                if sink.can_write_eof():
                    with contextlib.suppress(OSError):
                        sink.write_eof()
                return
            tunnel.last_active = self._clock()
            if up:
                tunnel.sent += len(data)
            else:
                tunnel.received += len(data)
            if not self.allowance.add(endpoint.workspace_id, len(data)):
                raise _TunnelEnd("allowance used up")
            sink.write(data)
            try:
                await asyncio.wait_for(sink.drain(), idle)
            except TimeoutError:
                raise _TunnelEnd("stalled") from None


def _listening_socket(directory: Path, owner_uid: int | None) -> socket.socket:
    """A listening Unix socket at `directory/proxy.sock`, in a fresh server-owned directory.

    Bound through `/proc/self/fd/<dir>/` so a long data directory path never
    runs into the 108-byte limit of socket addresses.
    """
    directory.parent.mkdir(mode=0o711, parents=True, exist_ok=True)
    _remove_socket_dir(directory)
    # Search-only for others: the sandbox's uid reaches the socket by name.
    os.mkdir(directory, 0o711)
    os.chmod(directory, 0o711)  # noqa: S103 - whatever the umask
    dir_fd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}")
        if owner_uid is not None:
            os.chown(SOCKET_NAME, owner_uid, owner_uid, dir_fd=dir_fd, follow_symlinks=False)
            os.chmod(f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}", 0o600)
        else:
            # Visible to one sandbox only (its own directory), whatever its uid.
            os.chmod(f"/proc/self/fd/{dir_fd}/{SOCKET_NAME}", 0o666)  # noqa: S103
        sock.listen(64)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    finally:
        os.close(dir_fd)
    return sock


def _remove_socket_dir(directory: Path) -> None:
    """Remove a socket directory the proxy made (its socket, then itself)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        (directory / SOCKET_NAME).unlink()
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        directory.rmdir()
