"""Bounds on each sandbox's use of the package proxy, and the byte allowance per workspace."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class ProxyLimits:
    """Bounds on one sandbox's use of the proxy (the settings fill them in)."""

    connections: int = 16  # tunnels and pending requests at once, per sandbox
    owner_connections: int = 32  # the same, per owner (a user) across their sandboxes
    window_bytes: int = 500 * MiB  # bytes both ways, per workspace per window
    window_s: float = 3600.0
    idle_s: float = 60.0  # a tunnel with no bytes either way for this long ends
    connection_s: float = 600.0  # the longest a tunnel lives
    header_bytes: int = 8192  # the request line and headers together
    header_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0  # resolving and connecting upstream
    total_connections: int = 512  # across all sandboxes: the server's own descriptors
    refusal_logs: int = 10  # refusals logged per sandbox per `refusal_log_s`; the rest counted
    refusal_log_s: float = 60.0


class Allowance:
    """Bytes used per key (a workspace) in fixed windows of `window_s` seconds."""

    def __init__(
        self, window_bytes: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_bytes = window_bytes
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        # Every byte ever counted, for the metrics (sandpit_proxy_bytes_total).
        self.total = 0

    def _window(self, key: str) -> tuple[float, int]:
        now = self._clock()
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.window_s:
            start, used = now, 0
        return start, used

    def exhausted(self, key: str) -> bool:
        return self._window(key)[1] >= self.window_bytes

    def add(self, key: str, count: int) -> bool:
        """Count `count` bytes; False once the window's allowance is used up."""
        start, used = self._window(key)
        self._windows[key] = (start, used + count)
        self.total += count
        return used + count <= self.window_bytes

    def prune(self) -> None:
        now = self._clock()
        for key, (start, _) in list(self._windows.items()):
            if now - start >= self.window_s:
                del self._windows[key]
