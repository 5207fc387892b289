"""The log of the proxy's refusals, kept within a budget per sandbox.

A sandbox in a loop of refused requests must not fill the server's log: past
`ProxyLimits.refusal_logs` lines a window its refusals are only counted, and
the next line let through says how many were left out. Every refusal is
still answered; only its log line is spared.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sandpit.proxy.protocol import Refusal

log = logging.getLogger(__name__)


class LogThrottle:
    """At most `per_window` log lines per key (a sandbox) per `window_s` seconds.

    Past the budget a key's lines are only counted; `admit` says how many
    were left out when the next one is let through. Fixed windows; keys
    expire with them.
    """

    def __init__(
        self, per_window: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_window = per_window
        self.window_s = window_s
        self._clock = clock
        # key -> (window start, lines logged in it, lines left out since the last logged)
        self._windows: dict[str, tuple[float, int, int]] = {}

    def admit(self, key: str) -> int | None:
        """None: leave this line out. Otherwise log it, with this many left out before it."""
        now = self._clock()
        start, logged, left_out = self._windows.get(key, (now, 0, 0))
        if now - start >= self.window_s:
            start, logged = now, 0
        if logged >= self.per_window:
            self._windows[key] = (start, logged, left_out + 1)
            return None
        self._windows[key] = (start, logged + 1, 0)
        return left_out

    def forget(self, key: str) -> None:
        self._windows.pop(key, None)


class RefusalLog:
    """Logs each refusal with the sandbox, workspace, target, status and reason, within budget."""

    def __init__(
        self, per_window: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._throttle = LogThrottle(per_window, window_s, clock)

    def record(self, sandbox_id: str, workspace_id: str, target: str, refusal: Refusal) -> None:
        """Log `refusal` of a request for `target` ("-" before it was read), if in budget."""
        left_out = self._throttle.admit(sandbox_id)
        if left_out is not None:
            log.info(
                "proxy refused: sandbox=%s workspace=%s target=%s status=%d reason=%s%s",
                sandbox_id,
                workspace_id,
                target,
                refusal.status,
                refusal.log_reason,
                f" (and {left_out} more refusals not logged)" if left_out else "",
            )

    def forget(self, sandbox_id: str) -> None:
        """Drop the budget of a sandbox that ended."""
        self._throttle.forget(sandbox_id)
