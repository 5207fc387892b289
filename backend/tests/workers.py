"""Which pytest-xdist worker this process is, and the host resources that are its own.

`make test` runs the pass on several worker processes (`pytest -n`). Most of
what a test makes on the host is already unique by construction: a server's
free port, its data directory under a fresh temporary directory, cgroup
roots named by port or by random hex, Docker labels named after those
roots. What is not is a *counter*: the contract harness hands out host uids
from one block counter per process, so two workers would hand out the same
uids and each would see the other's sandbox processes as its own. Each
worker therefore counts in a range of its own (`uid_range`).

Without xdist (a plain `pytest`, one process) the index is 0 and every
range is what it was before the pass ran in parallel.
"""

from __future__ import annotations

import os

# Uids per worker for the contract harness's sandboxes (tests/sandbox): a
# block of 32 per backend object, 1562 backend objects per worker. Servers'
# uids start at SERVER_UID_BASE (see tests/servers.py), above every worker's
# range for up to (SERVER_UID_BASE - HARNESS_UID_BASE) / UIDS_PER_WORKER = 14 workers.
HARNESS_UID_BASE = 300_000
UIDS_PER_WORKER = 50_000
SERVER_UID_BASE = 1_000_000
# Servers' workspace gids: above every server's uids (ports < 65536, so uids < 67,000,000),
# so no server's gid range overlaps its uid range, which its settings refuse.
SERVER_GID_BASE = 100_000_000


def worker_index() -> int:
    """0 for `gw0` or a run without xdist, 1 for `gw1`, and so on."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name.removeprefix("gw"))


def uid_range() -> range:
    """This worker's host uids for the contract harness's sandboxes."""
    first = HARNESS_UID_BASE + worker_index() * UIDS_PER_WORKER
    if first + UIDS_PER_WORKER > SERVER_UID_BASE:
        raise RuntimeError(f"too many workers: worker {worker_index()} has no uid range left")
    return range(first, first + UIDS_PER_WORKER)


def server_uid_base(port: int, count: int) -> int:
    """The first of `count` host uids for a test server listening on `port`.

    Ports of live servers differ (each server holds its own), so their uid
    ranges do too, whichever worker started them.
    """
    return SERVER_UID_BASE + port * count


def server_gid_base(port: int, count: int) -> int:
    """The first of `count` workspace gids for a test server on `port` (as `server_uid_base`)."""
    return SERVER_GID_BASE + port * count
