"""A warm run's end reported before its process is reaped (`warm_keeper.Keeper.on_end`).

Real sockets and real processes, without a sandbox: the keeper's end socket,
datagrams sent the way `warm._report_end` sends them, and the pid the
kernel stamps on each. The whole path (a forked run reporting its own end)
runs in every warm run of the warm suites on both backends; the parity
program `forked_child_exits.py` checks that a process the program forks
cannot end the run.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator

import pytest

from sandpit.sandbox.inside.warm_keeper import Keeper

Reports = list[tuple[str, int | None]]


@pytest.fixture
def keeper() -> Iterator[tuple[Keeper, Reports]]:
    reports: Reports = []
    kept = Keeper(lambda spawn_id, status: reports.append((spawn_id, status)))
    kept._open_end()
    assert kept.end is not None
    yield kept, reports
    kept.end.close()


def send(keeper: Keeper, data: bytes) -> None:
    """Send `data` to the keeper's end socket from this process, as a run's process does."""
    assert keeper.end_name is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(data, socket.MSG_DONTWAIT, b"\0" + keeper.end_name.encode())


def send_from_child(keeper: Keeper, data: bytes) -> None:
    """Send `data` from a forked child (another pid), and wait for it to end."""
    pid = os.fork()
    if pid == 0:
        try:
            send(keeper, data)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def test_a_run_reports_its_exit_status_once_and_is_reaped_silently(
    keeper: tuple[Keeper, Reports],
) -> None:
    kept, reports = keeper
    me = os.getpid()  # plays the run's process: the keeper forked it for "run-1"
    kept.children[me] = "run-1"
    send(kept, b"exit 3")
    send(kept, b"exit 0")  # a second report is not believed
    kept.on_end()
    assert reports == [("run-1", 3 << 8)]
    assert os.waitstatus_to_exitcode(3 << 8) == 3
    assert me not in kept.children
    # Reaped later: handled, and not reported again.
    assert kept.reaped(me, 0) is True
    assert reports == [("run-1", 3 << 8)]
    assert kept.ended == set()


def test_only_the_runs_own_process_is_believed(keeper: tuple[Keeper, Reports]) -> None:
    kept, reports = keeper
    kept.children[os.getpid()] = "run-1"
    # A process the program forked (or any other process of the sandbox)
    # sends the right words: its pid is not the run's.
    send_from_child(kept, b"exit 0")
    # The run's own process, but not a status: ignored as well.
    for junk in (b"exit 256", b"exit -1", b"exit 1 ", b"quit 0", b"", b"exit 0000"):
        send(kept, junk)
    kept.on_end()
    assert reports == []
    assert kept.children == {os.getpid(): "run-1"}
    # Reaped the usual way: reported then.
    assert kept.reaped(os.getpid(), signal.SIGKILL) is True
    assert reports == [("run-1", signal.SIGKILL)]
