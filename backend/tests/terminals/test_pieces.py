"""The parts of a terminal that do no I/O: modes, the ring, input lines, client accounting."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from sandpit.db import migrate
from sandpit.db.engine import create_engine, session_factory
from sandpit.security.ratelimit import MemoryRateLimiter
from sandpit.terminals import commandlog
from sandpit.terminals.client import Client
from sandpit.terminals.input import CommandLines, LineCap
from sandpit.terminals.modes import ModeTracker
from sandpit.terminals.ring import RESET, Ring


def test_modes_follow_set_and_reset() -> None:
    modes = ModeTracker()
    modes.feed(b"text\x1b[?2004hmore\x1b[?1;1006h\x1b[?1049h\x1b[?1000h\x1b[?25l\x1b=")
    assert modes.restore() == (
        b"\x1b[?1049h\x1b[?1h\x1b[?1006h\x1b[?2004h\x1b[?1000h\x1b[?25l\x1b="
    )
    modes.feed(b"\x1b[?1049l\x1b[?1l\x1b[?25h\x1b>\x1b[?1000l")
    assert modes.restore() == b"\x1b[?1006h\x1b[?2004h"
    modes.feed(b"\x1bc")  # a full reset
    assert modes.restore() == b""


def test_modes_survive_a_sequence_split_across_chunks() -> None:
    modes = ModeTracker()
    for piece in (b"abc\x1b", b"[?20", b"04", b"h tail"):
        modes.feed(piece)
    assert modes.restore() == b"\x1b[?2004h"
    modes.feed(b"\x1b")
    modes.feed(b"c")
    assert modes.restore() == b""


def test_ring_keeps_the_newest_bytes_and_the_modes_before_them() -> None:
    ring = Ring(10)
    ring.append(b"\x1b[?1049h")  # entered long ago
    ring.append(b"0123456789")
    ring.append(b"abcdef")
    assert ring.contents() == b"6789abcdef"
    assert len(ring) == 10
    # The alternate screen was entered before the kept window: restored first.
    assert ring.replay() == RESET + b"\x1b[?1049h" + b"6789abcdef"


def test_ring_never_starts_inside_a_utf8_character() -> None:
    ring = Ring(4)
    ring.append("aé漢".encode())  # 1 + 2 + 3 bytes: a cut after "a\xc3" moves on to "漢"
    assert ring.contents() == "漢".encode()


def test_line_cap_refuses_whole_messages() -> None:
    cap = LineCap(10)
    assert cap.accept(b"12345")
    assert not cap.accept(b"123456")  # 11 on one line: refused, nothing counted
    assert cap.accept(b"12345\r1234567890\n123")
    assert cap.length == 3
    assert not cap.accept(b"\r" + b"x" * 11)
    assert cap.accept(b"\x03" + b"x" * 10)  # Ctrl+C abandons the line


def test_command_lines_apply_editing_keys() -> None:
    lines = CommandLines()
    assert lines.feed(b"ls -x\x7fl\r") == ["ls -l"]
    assert lines.feed(b"rm -rf /\x15echo hi\r") == ["echo hi"]  # Ctrl+U
    assert lines.feed(b"git commit\x17status\r") == ["git status"]  # Ctrl+W
    assert lines.feed(b"sleep 9\x03") == []  # Ctrl+C discards
    assert lines.feed(b"\x1b[Aecho \x1b[200~pasted\x1b[201~\r\r") == ["echo pasted"]
    assert lines.feed(b"caf\xc3\xa9\x7f\x7f\xc3\xa8s\r") == ["caès"]  # one character each
    assert lines.feed(b"split \x1b[") == []
    assert lines.feed(b"Cescape\r") == ["split escape"]
    assert lines.feed(b"x" * 5000 + b"\r") == ["x" * 1000]


def test_client_accounting_and_falling_behind() -> None:
    client = Client("u")
    client.push_replay(b"r" * 100)
    assert (client.sent, client.unacked_live) == (100, 0)  # a replay holds nobody up
    client.push_output(b"o" * 50)
    assert client.unacked_live == 50
    assert client.ack(120)
    assert not client.ack(110)  # not progress
    assert client.ack(10_000)  # capped at what was sent
    assert client.unacked == 0


async def test_a_client_that_falls_behind_keeps_only_what_it_was_sent() -> None:
    client = Client("u")
    client.push_output(b"a" * 10)
    sent: list[bytes] = []
    gate = asyncio.Event()

    async def send_bytes(data: bytes) -> None:
        sent.append(data)
        await gate.wait()  # the socket is stuck after the first frame

    async def nothing(*_: object) -> None:
        pass

    pump = asyncio.create_task(client.pump(send_bytes, nothing, nothing))
    await asyncio.sleep(0)
    client.push_output(b"b" * 20)
    client.push_control({"type": "resync"})
    client.fall_behind()  # the unsent 20 bytes are dropped, the control message kept
    assert (client.live, client.sent, client.queued_bytes) == (False, 10, 17)
    pump.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pump
    assert sent == [b"a" * 10]


async def test_command_log_is_rate_limited_and_counts_what_it_skips(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    now = [1000.0]
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        log = commandlog.CommandLog(
            sessions, MemoryRateLimiter(clock=lambda: now[0]), per_minute=2, max_rows=100
        )
        for i in range(5):
            log.record("u1", "w1", "t1", f"cmd {i}")
        now[0] += 61
        log.record("u1", "w1", "t1", "cmd 5")
        await log.flush()
        async with sessions() as db:
            rows = await commandlog.entries(db, user_id="u1")
        assert [(e.command, e.skipped_before, name) for e, name in rows] == [
            ("cmd 5", 3, None),
            ("cmd 1", 0, None),
            ("cmd 0", 0, None),
        ]
    finally:
        await engine.dispose()


@pytest.mark.parametrize("rows", [150])
async def test_command_log_is_pruned_to_its_cap(tmp_path: Path, rows: int) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        log = commandlog.CommandLog(sessions, MemoryRateLimiter(), per_minute=10_000, max_rows=100)
        for i in range(rows):
            log.record("u1", "w1", "t1", f"cmd {i}")
        await log.flush()  # the first flush prunes
        async with sessions() as db:
            kept = await commandlog.entries(db, limit=500)
        assert len(kept) == 100
        assert kept[-1][0].command == f"cmd {rows - 100}"
    finally:
        await engine.dispose()
