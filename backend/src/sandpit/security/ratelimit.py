"""Rate limits: a sliding-window counter per key.

The limiter is an interface so that several API replicas can later share one
in Redis; `MemoryRateLimiter` serves a single process.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_s: float) -> float:
        """Record one event for `key`.

        Returns 0 if the event is within `limit` events per `window_s`
        seconds, else the seconds until one more event would be allowed (the
        event is then not recorded).
        """
        ...

    def peek(self, key: str, limit: int, window_s: float) -> float:
        """Like `hit`, but without recording an event."""
        ...

    def reset(self, key: str) -> None:
        """Forget `key`'s events (e.g. after a successful login)."""
        ...


class MemoryRateLimiter:
    """In-process sliding window. Memory is bounded by `max_keys`."""

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self._events: dict[str, deque[float]] = {}
        self._max_keys = max_keys
        self._clock = clock

    def hit(self, key: str, limit: int, window_s: float) -> float:
        wait = self.peek(key, limit, window_s)
        if not wait:
            now = self._clock()
            if key not in self._events and len(self._events) >= self._max_keys:
                self._evict(now, window_s)
            self._events.setdefault(key, deque()).append(now)
        return wait

    def peek(self, key: str, limit: int, window_s: float) -> float:
        events = self._events.get(key)
        if not events:
            return 0.0
        now = self._clock()
        while events and events[0] <= now - window_s:
            events.popleft()
        if len(events) >= limit:
            return max(0.001, events[0] + window_s - now)
        return 0.0

    def reset(self, key: str) -> None:
        self._events.pop(key, None)

    def _evict(self, now: float, window_s: float) -> None:
        # Drop keys whose newest event left the window; if an attacker keeps
        # every key fresh, drop the oldest half rather than grow without bound.
        stale = [k for k, ev in self._events.items() if not ev or ev[-1] <= now - window_s]
        for key in stale:
            del self._events[key]
        if len(self._events) >= self._max_keys:
            for key in list(self._events)[: self._max_keys // 2]:
                del self._events[key]


def retry_after_seconds(wait_s: float) -> int:
    """The `Retry-After` header value for a wait: whole seconds, at least 1."""
    return max(1, math.ceil(wait_s))
