"""`read_chunks` on a real pipe: every byte in order, the end at EOF, the watch removed."""

from __future__ import annotations

import asyncio
import contextlib
import os

from sandpit.fdio import read_chunks


async def test_reads_everything_written_then_stops_at_eof() -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"hello ")
        received = bytearray()
        async for chunk in read_chunks(read_end, size=4):
            assert 0 < len(chunk) <= 4
            received += chunk
            if received == b"hello ":
                # The reader has drained the pipe and must wait for more.
                os.write(write_end, b"world")
                os.close(write_end)
                write_end = -1
        assert received == b"hello world"
        assert not asyncio.get_running_loop().remove_reader(read_end)  # already removed
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


async def test_stopping_early_removes_the_watch() -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"first")
        async with contextlib.aclosing(read_chunks(read_end)) as chunks:
            async for chunk in chunks:
                assert chunk == b"first"
                break
        assert not asyncio.get_running_loop().remove_reader(read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
