"""One owner per descriptor: `OwnedFd` closes once, and the guard names a second closer."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys

import pytest
import uvloop  # uvicorn[standard] ships it, and the server runs on it

from sandpit import fds


def test_an_owned_descriptor_is_closed_once_however_often_close_is_called() -> None:
    read_end, write_end = fds.owned_pipe()
    number = read_end.fd
    read_end.close()
    read_end.close()
    assert read_end.closed
    with pytest.raises(OSError, match="Bad file descriptor") as closed:
        os.fstat(number)
    assert closed.value.errno == errno.EBADF
    write_end.close()
    assert fds.take_violations() == []


def test_a_descriptor_taken_by_a_new_owner_is_never_closed_by_the_old_one() -> None:
    read_end, write_end = fds.owned_pipe()
    number = read_end.take()
    read_end.close()  # not ours any more: must not close it
    os.fstat(number)  # still open
    with pytest.raises(ValueError, match="handed over"):
        _ = read_end.fd
    with fds.OwnedFd(number):
        pass
    write_end.close()
    assert fds.take_violations() == []


def test_the_guard_reports_a_second_close_with_both_closers() -> None:
    assert fds.guard_installed()  # the pass runs with it (tests/conftest.py)
    read_end, write_end = os.pipe()
    os.close(write_end)

    def closes_again() -> None:
        os.close(write_end)

    with pytest.raises(OSError, match="Bad file descriptor"):
        closes_again()
    os.close(read_end)
    found = fds.take_violations()
    assert len(found) == 1
    assert found[0].fd == write_end
    assert "closes_again" in found[0].closer
    assert "test_the_guard_reports_a_second_close_with_both_closers" in found[0].previous


def test_the_guard_catches_a_pipe_transport_closing_its_file_twice_under_uvloop() -> None:
    """The bug of issue 20, as it was: plots read through a transport made from a file.

    uvloop's transport closes the descriptor, then closes it again through the
    file object; in a threaded server that second close hits another thread's
    file. Here nothing reopens the number in between, so the guard sees EBADF.
    """

    async def read_through_a_transport() -> None:
        read_end, write_end = os.pipe()
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_end, "rb", buffering=0)
        )
        os.write(write_end, b"x")
        os.close(write_end)
        assert await reader.read() == b"x"
        transport.close()
        await asyncio.sleep(0.05)

    fds.take_violations()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(read_through_a_transport())
    found = fds.take_violations()
    assert len(found) == 1
    assert "read_through_a_transport" not in found[0].previous  # libuv closed it first, in C


def test_the_server_raises_its_open_file_limit_to_the_hard_limit() -> None:
    """Run in a child so this process's limits stay as they are."""
    code = (
        "import resource; from sandpit.fds import raise_open_file_limit;"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE);"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard));"
        "print(raise_open_file_limit() == hard == resource.getrlimit(resource.RLIMIT_NOFILE)[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
