"""Host uids for sandboxes: one per live sandbox, from a reserved range.

Both backends run each sandbox's processes as a host uid of its own, seen
inside as uid 1000 (a user namespace maps it: bubblewrap makes it, in a
Docker container the agent does, see `inside/agent.py`). The kernel counts
some limits per host uid across every namespace (RLIMIT_NPROC, pending
signals, inotify instances and watches, epoll watches, pipe buffer pages,
message queue bytes), and a host uid owns the files it writes: one uid per
sandbox keeps each of these to its own sandbox.
"""

from __future__ import annotations

from sandpit.sandbox.base import SandboxError


class UidPool:
    """Unprivileged host uids, one per live sandbox, from a reserved range."""

    def __init__(self, first: int, count: int) -> None:
        if first < 1000 or count < 1:
            raise ValueError("the sandbox uid range must start at 1000 or above")
        self._free = list(range(first, first + count))
        self._used: set[int] = set()

    def take(self) -> int:
        """A free uid, now in use. Raises `SandboxError` when every uid is in use."""
        if not self._free:
            raise SandboxError("Too many sandboxes are running; try again in a minute.")
        uid = self._free.pop(0)
        self._used.add(uid)
        return uid

    def give_back(self, uid: int) -> None:
        """Return `uid` (taken before) to the pool; nothing if it is not in use."""
        if uid in self._used:
            self._used.discard(uid)
            self._free.append(uid)
