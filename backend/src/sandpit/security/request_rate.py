"""The per-user request rate: token buckets by key, and whose a credential is.

`TokenBuckets` holds one bucket per key (a user, or a client address for
requests without a valid credential): `rate` requests a second sustained,
`burst` at once. A bucket that has refilled is the same as no bucket, so
memory is bounded by `max_keys` without changing anyone's allowance unless
that many keys are active at once.

`CredentialOwners` answers whose a session token is without the database:
the token's signature is checked once (about 0.1 ms) and the answer kept
until the token expires, so the refusal of a flood costs a dictionary
lookup, not a signature check per request.

Both are single-process and in memory, like `MemoryRateLimiter`; several
API processes would need them shared (Redis) or a per-process share of the
rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sandpit.errors import Unauthorized
from sandpit.security.ratelimit import retry_after_seconds
from sandpit.security.tokens import TokenCodec


@dataclass(frozen=True)
class Take:
    """One request's outcome: `wait_s` is 0 when admitted, else the seconds
    until the bucket holds a token again; `first` is true for the first
    refusal since the key's last admitted request (to log an episode once);
    `ignored` is true for a refusal that came before the `Retry-After` of the
    key's previous refusal had passed (a client that does not wait)."""

    wait_s: float
    first: bool = False
    ignored: bool = False


_ADMITTED = Take(0.0)


class TokenBuckets:
    def __init__(
        self,
        rate: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._clock = clock
        # key -> [tokens, when they were counted, refused since the last
        # admission (0/1), when the last refusal's Retry-After ends]
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str) -> Take:
        """Spend one of `key`'s tokens, or say how long until there is one (nothing spent)."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._evict(now)
            bucket = self._buckets[key] = [float(self.burst), now, 0.0, 0.0]
        tokens = min(float(self.burst), bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            bucket[2] = 0.0
            return _ADMITTED
        bucket[0] = tokens
        first = bucket[2] == 0.0
        bucket[2] = 1.0
        wait_s = (1.0 - tokens) / self.rate
        ignored = now < bucket[3]
        bucket[3] = now + retry_after_seconds(wait_s)
        return Take(wait_s, first, ignored)

    def __len__(self) -> int:
        return len(self._buckets)

    def _evict(self, now: float) -> None:
        # A full bucket is the same as none: drop those first. If every key is
        # still busy (an attacker with that many addresses), drop the oldest
        # half rather than grow without bound.
        refill_s = self.burst / self.rate
        full = [k for k, (_, at, *_rest) in self._buckets.items() if now - at >= refill_s]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            for key in list(self._buckets)[: self._max_keys // 2]:
                del self._buckets[key]


class CredentialOwners:
    """The user id a session token was issued to, checked once and kept until it expires.

    `owner(token)` returns None for a token that is not ours or has expired
    (the request is then counted by its address, and authentication refuses
    it). Only verified tokens are kept (at most `max_tokens`), so made-up
    tokens cannot fill the memory.
    """

    def __init__(
        self,
        tokens: TokenCodec,
        max_tokens: int = 50_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._codec = tokens
        self._max_tokens = max_tokens
        self._clock = clock
        self._owners: dict[str, tuple[str, float]] = {}

    def owner(self, token: str) -> str | None:
        now = self._clock()
        known = self._owners.get(token)
        if known is not None:
            if known[1] > now:
                return known[0]
            del self._owners[token]
        try:
            user_id, expires = self._codec.subject_and_expiry(token)
        except Unauthorized:
            return None
        if len(self._owners) >= self._max_tokens:
            for stale in list(self._owners)[: self._max_tokens // 2]:
                del self._owners[stale]
        self._owners[token] = (user_id, expires)
        return user_id

    def __len__(self) -> int:
        return len(self._owners)
