"""Failed sign-ins, throttled per (account, address) with growing delays.

A count per account alone lets a stranger lock the owner out: ten wrong
passwords from anywhere and the right one is refused. Here each (account,
client address) pair has its own count: the first `free_failures` cost
nothing, then each further failure makes that pair wait twice as long as the
last (`base_s`, twice that, four times, ... up to `max_s`). The owner signing in from
another address is never delayed by them; guessing from one address slows
down exponentially, and the per-address limit in `sandpit.services.users`
caps guessing many accounts from one address.

A pair is forgotten after a success, or once it has been quiet for
`forget_s`. Memory is bounded by `max_pairs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Failures:
    count: int
    blocked_until: float
    last: float


class LoginThrottle:
    """Counts failed sign-ins per (account, address); says how long a pair must wait."""

    def __init__(
        self,
        *,
        free_failures: int,
        base_s: float,
        max_s: float,
        forget_s: float | None = None,
        max_pairs: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_s = base_s
        self.max_s = max_s
        # Long enough that waiting out the longest delay does not reset the count.
        self.forget_s = forget_s if forget_s is not None else 4 * max_s
        self._max_pairs = max_pairs
        self._clock = clock
        self._pairs: dict[tuple[str, str], _Failures] = {}

    def wait(self, account: str, address: str) -> float:
        """Seconds the pair must still wait before its next attempt (0: go ahead)."""
        entry = self._current(account, address)
        if entry is None:
            return 0.0
        return max(0.0, entry.blocked_until - self._clock())

    def failed(self, account: str, address: str) -> float:
        """Record a failure; return the delay it imposes on the pair (0 while free)."""
        now = self._clock()
        entry = self._current(account, address)
        if entry is None:
            if len(self._pairs) >= self._max_pairs:
                self._evict(now)
            entry = self._pairs[(account, address)] = _Failures(0, now, now)
        entry.count += 1
        entry.last = now
        delay = self.delay_after(entry.count)
        entry.blocked_until = now + delay
        return delay

    def succeeded(self, account: str, address: str) -> None:
        """The pair signed in: its failures are forgotten."""
        self._pairs.pop((account, address), None)

    def delay_after(self, failures: int) -> float:
        """The wait after `failures` failures in a row: 0, then doubling, capped. Pure."""
        over = failures - self.free_failures
        if over <= 0:
            return 0.0
        # 2**60 seconds is beyond any cap; keeps the power from overflowing a float.
        return min(float(self.max_s), self.base_s * 2.0 ** min(over - 1, 60))

    def _current(self, account: str, address: str) -> _Failures | None:
        entry = self._pairs.get((account, address))
        if entry is not None and self._clock() - entry.last >= self.forget_s:
            del self._pairs[(account, address)]
            return None
        return entry

    def _evict(self, now: float) -> None:
        # Forget quiet pairs first; if an attacker keeps every pair fresh,
        # drop the oldest half rather than grow without bound.
        quiet = [key for key, entry in self._pairs.items() if now - entry.last >= self.forget_s]
        for key in quiet:
            del self._pairs[key]
        if len(self._pairs) >= self._max_pairs:
            for key in list(self._pairs)[: self._max_pairs // 2]:
                del self._pairs[key]
