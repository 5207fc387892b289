"""The bounded pipe reader: the head, a marker, and the tail where pytest's summary is."""

from __future__ import annotations

import os

from sandpit.grading.streams import BoundedReader


async def read_all(data: bytes, cap: int, tail: int) -> bytes:
    read_end, write_end = os.pipe()
    reader = BoundedReader(read_end, cap, tail=tail)
    try:
        os.write(write_end, data)
        os.close(write_end)
        await reader.ended()
        assert reader.total == len(data)
        return reader.data()
    finally:
        reader.close()


async def test_what_fits_is_kept_whole() -> None:
    assert await read_all(b"0123456789", cap=10, tail=4) == b"0123456789"


async def test_a_flood_keeps_its_head_and_tail() -> None:
    data = b"head" + b"x" * 10_000 + b"6 passed in 0.10s\n"
    kept = await read_all(data, cap=4, tail=18)
    assert kept == "head\n… (10000 bytes left out) …\n6 passed in 0.10s\n".encode()


async def test_without_a_tail_only_the_head_is_kept() -> None:
    assert await read_all(b"abcdef", cap=3, tail=0) == b"abc"
