"""Admission: whether one more sandbox may start, for this user and on this host.

Three rules, checked in this order each time a workspace needs a sandbox
that is not running:

1. **Active sandboxes per user** (429): a user holds at most
   `sandboxes_per_user` sandboxes, running or starting. The refusal lists
   them (`SandboxCapReached.sandboxes`), so a client can offer to stop one.
2. **Host memory budget** (503): the memory all sandboxes hold now (anonymous
   plus tmpfs, read from the cgroup root by `memory_in_use`), plus
   `start_reserve_bytes` for each sandbox still starting and one more for
   this one, must fit in `memory_budget_bytes`. The editor's language-server
   sandboxes (`sandpit.lsp.manager`) pass this rule alone (`check_memory`). The parent cgroup's own
   limit is the hard backstop; this check is what keeps a start from
   pushing everyone towards it.
3. **Sandbox starts per user per minute** (429): counted only for starts
   that passed 1 and 2, so a refused start costs the user nothing.

The order puts the user's own caps first: a user at their cap hears about
their cap, not about a full host. Nothing here awaits, so a check and the
caller's record of the start it admits happen without another start in
between (see `SandboxManager.get`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sandpit.errors import HostFull, RateLimited
from sandpit.security.ratelimit import RateLimiter, retry_after_seconds

MiB = 1024 * 1024


@dataclass(frozen=True)
class AdmissionLimits:
    """The caps admission enforces; `memory_budget_bytes` None means no host budget."""

    sandboxes_per_user: int = 3
    starts_per_minute: int = 10
    memory_budget_bytes: int | None = None
    start_reserve_bytes: int = 128 * MiB
    # What a refused client is told to wait: long enough for a run to end or
    # a sandbox to idle out, short enough that a waiting IDE feels alive.
    retry_after_s: int = 10


@dataclass(frozen=True)
class Held:
    """One sandbox a user holds: its workspace, and whether something uses it now."""

    workspace_id: str
    busy: bool


class SandboxCapReached(RateLimited):
    """The user already holds their most sandboxes (429); `sandboxes` lists them."""

    def __init__(self, cap: int, held: Sequence[Held], retry_after: int) -> None:
        super().__init__(
            f"You already have {cap} sandboxes running, the most one user may have at once; "
            "stop one of them to start another.",
            retry_after,
        )
        self.sandboxes = list(held)
        self.extra = {
            "limit": "sandboxes_per_user",
            "sandboxes": [{"workspace_id": h.workspace_id, "busy": h.busy} for h in self.sandboxes],
        }


@dataclass
class Admission:
    """Checks a start against the caps (see the module docstring).

    `memory_in_use` reads the memory all sandboxes hold now (None when the
    host cannot tell: the budget is then checked on reserves alone).
    `on_refused(kind, user_id, detail)` hears of every refusal (the admin
    view's list, the metrics).
    """

    limits: AdmissionLimits
    limiter: RateLimiter
    memory_in_use: Callable[[], int | None]
    on_refused: Callable[[str, str, str], None] = lambda kind, user, detail: None

    def check(
        self, user_id: str, held: Sequence[Held], starting: int, *, record: bool = True
    ) -> None:
        """Admit one more sandbox for `user_id`, or raise.

        `held`: the user's sandboxes running or starting (not counting this
        one); `starting`: sandboxes of anyone still starting, whose memory
        is not measurable yet. Raises `SandboxCapReached` (429), `HostFull`
        (503) or `RateLimited` (429, the start rate). An admitted start is
        counted against the user's start rate, unless `record` is False (a
        check ahead of the start itself, which will count).
        """
        limits = self.limits
        if len(held) >= limits.sandboxes_per_user:
            capped = SandboxCapReached(limits.sandboxes_per_user, held, limits.retry_after_s)
            self.on_refused("sandboxes_per_user", user_id, capped.detail)
            raise capped
        self.check_memory(user_id, starting)
        count = self.limiter.hit if record else self.limiter.peek
        wait = count(f"sandbox-starts:{user_id}", limits.starts_per_minute, 60)
        if wait:
            seconds = retry_after_seconds(wait)
            error = RateLimited(
                f"Too many sandbox starts in a minute (at most {limits.starts_per_minute}); "
                f"try again in {seconds} seconds.",
                seconds,
            )
            self.on_refused("sandbox_starts_per_minute", user_id, error.detail)
            raise error

    def check_memory(self, user_id: str, starting: int) -> None:
        """Rule 2 alone: admit one more sandbox into the host's memory budget, or raise `HostFull`.

        For sandboxes that are not a user's own (the editor's language
        servers): they hold host memory like any other, but do not count
        against the user's sandboxes or start rate.
        """
        limits = self.limits
        budget = limits.memory_budget_bytes
        if budget is None:
            return
        in_use = self.memory_in_use() or 0
        if in_use + (starting + 1) * limits.start_reserve_bytes > budget:
            full = HostFull(
                "The server is full: every sandbox it has room for is in use. "
                f"Try again in {limits.retry_after_s} seconds.",
                limits.retry_after_s,
            )
            self.on_refused("host_memory", user_id, full.detail)
            raise full
