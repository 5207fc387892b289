"""The recent refusals (429 and 503 with `Retry-After`), for the admin view.

A bounded ring in memory: the newest `capacity` refusals, oldest dropped
first, so a user hammering a limit costs a fixed amount of memory. Each
entry holds the route *template*, never the raw path, and the sentence the
client was given (ours, never user input).
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Refusal:
    id: int
    at: datetime
    status: int
    route: str
    user_id: str | None
    detail: str


class RefusalLog:
    def __init__(self, capacity: int = 1000) -> None:
        self._entries: deque[Refusal] = deque(maxlen=capacity)
        self._ids = itertools.count(1)

    def record(self, status: int, route: str, user_id: str | None, detail: str) -> None:
        self._entries.append(
            Refusal(next(self._ids), datetime.now(UTC), status, route, user_id, detail[:300])
        )

    def newest(
        self, *, limit: int, status: int | None = None, user_id: str | None = None
    ) -> list[Refusal]:
        """Up to `limit` refusals, newest first, of that status and user when given."""
        found = []
        for entry in reversed(self._entries):
            if status is not None and entry.status != status:
                continue
            if user_id is not None and entry.user_id != user_id:
                continue
            found.append(entry)
            if len(found) == limit:
                break
        return found
