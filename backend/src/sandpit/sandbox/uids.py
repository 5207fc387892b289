"""Host uids for sandboxes (one per live sandbox) and gids for workspaces, from reserved ranges.

Both backends run each sandbox's processes as a host uid of its own, seen
inside as uid 1000 (a user namespace maps it: bubblewrap makes it, in a
Docker container the agent does, see `inside/agent.py`). The kernel counts
some limits per host uid across every namespace (RLIMIT_NPROC, pending
signals, inotify instances and watches, epoll watches, pipe buffer pages,
message queue bytes), and a host uid owns the files it writes: one uid per
sandbox keeps each of these to its own sandbox.

A workspace's files belong to a gid of its own (`GroupPool`), shared by
every sandbox on that workspace and by nothing else, seen inside as gid 1000.
"""

from __future__ import annotations

import grp
import pwd

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


class GroupPool:
    """Host gids, one per workspace directory with a live sandbox, from a reserved range.

    A workspace's tree belongs to its gid (`ownership.hand_over`), and every
    sandbox on the workspace runs with it as its primary group: its own
    sandbox (whose new files then get it) and a shared, read-only one (the
    language servers', which reads the group-readable files through it). No
    other process on the host has it, and the top folder is 0750, so no other
    host account, nor another sandbox's uid, can list or read the workspace.

    The gid is held while any sandbox of the workspace lives (each holder
    named, so releasing twice is harmless) and goes back to the pool with the
    last one; the next sandbox on the workspace may get another, and re-hands
    the tree to it. The range must hold no real host group
    (`host_groups_in`) and be apart from the sandbox uids (checked by the
    settings), so a gid never means anything else on the host.
    """

    def __init__(self, first: int, count: int) -> None:
        if first < 1000 or count < 1:
            raise ValueError("the workspace gid range must start at 1000 or above")
        self._free = list(range(first, first + count))
        self._gids: dict[str, int] = {}  # workspace -> its gid
        self._holders: dict[str, str] = {}  # holder (a sandbox id) -> its workspace

    def take(self, workspace: str, holder: str) -> int:
        """`workspace`'s gid (a new one if nothing holds it), now held by `holder` too.

        `workspace` names the directory (its host path); `holder` is unique
        per sandbox. Raises `SandboxError` when every gid is in use.
        """
        gid = self._gids.get(workspace)
        if gid is None:
            if not self._free:
                raise SandboxError("Too many workspaces are in use; try again in a minute.")
            gid = self._gids[workspace] = self._free.pop(0)
        self._holders[holder] = workspace
        return gid

    def give_back(self, holder: str) -> None:
        """Release `holder`'s hold (nothing if it holds none); the last one frees the gid."""
        workspace = self._holders.pop(holder, None)
        if workspace is None or workspace in self._holders.values():
            return
        self._free.append(self._gids.pop(workspace))

    def gid_of(self, workspace: str) -> int | None:
        """The gid `workspace` holds now, or None."""
        return self._gids.get(workspace)


def host_groups_in(first: int, count: int) -> list[int]:
    """Gids in `first`..`first + count - 1` the host uses: a group's, or a user's primary."""
    ids = range(first, first + count)
    used = {entry.gr_gid for entry in grp.getgrall()} | {entry.pw_gid for entry in pwd.getpwall()}
    return sorted(gid for gid in used if gid in ids)
