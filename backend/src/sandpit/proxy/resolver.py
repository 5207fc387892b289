"""Name lookups for the package proxy: shared, briefly cached, off the event loop."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable


class Resolver:
    """Names to addresses, cached briefly, one lookup at a time per name.

    Lookups run in the default executor, which the whole server shares: a
    cache (only allowlisted names are ever looked up, so it stays small) and
    one lookup in flight per name keep a busy or slow resolver from tying
    it up. The addresses are checked on every use, cached or not.
    """

    def __init__(self, ttl: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._pending: dict[tuple[str, int], asyncio.Future[list[str]]] = {}

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of `host` as text; raises `socket.gaierror`."""
        key = (host, port)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(host, port))
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(pending)

    def _finished(self, key: tuple[str, int], done: asyncio.Future[list[str]]) -> None:
        self._pending.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here, even if every waiter gave up

    async def _lookup(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        self._cache[(host, port)] = (self._clock() + self._ttl, addresses)
        return addresses
