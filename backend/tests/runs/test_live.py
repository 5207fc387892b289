"""The pieces of a live run without a sandbox: the output log, followers, and the input pump."""

from __future__ import annotations

import asyncio
import os

import pytest

from sandpit.fds import OwnedFd
from sandpit.runs import output as output_module
from sandpit.runs.live import InputState, LiveRun, Started, follow
from sandpit.runs.output import EVENT_BYTES, Cursor, Image, RunOutput, Text
from sandpit.runs.stdin import MAX_PENDING_BYTES, RunInput


def joined(items: list[object]) -> list[object]:
    """Consecutive texts of one stream joined (how they were cut does not matter)."""
    result: list[object] = []
    for item in items:
        last = result[-1] if result else None
        if isinstance(item, Text) and isinstance(last, Text) and last.stream == item.stream:
            result[-1] = Text(item.stream, last.text + item.text)
        else:
            result.append(item)
    return result


def test_a_cursor_replays_in_order_then_takes_what_is_new() -> None:
    output = RunOutput(limit=1000)
    output.add("stdout", b"a")
    output.add("stdout", b"b")
    output.add("stderr", b"oops\n")
    output.add_image(b"png")
    output.echo(b"typed\n")
    cursor = Cursor(output)
    assert list(cursor.take()) == [
        Text("stdout", "ab"),
        Text("stderr", "oops\n"),
        Image(0),
        Text("stdin", "typed\n"),
    ]
    assert list(cursor.take()) == []
    output.add("stdout", b"c")
    assert list(cursor.take()) == [Text("stdout", "c")]
    output.end()
    assert list(cursor.rest()) == []


def test_text_printed_while_a_plot_is_stored_comes_after_the_plot() -> None:
    # The plot's file is written off the event loop; the program's next
    # prompt is read meanwhile and must not jump ahead of the plot.
    output = RunOutput(limit=1000)
    cursor = Cursor(output)
    output.add("stdout", b"before\n")
    output.hold()
    output.add("stdout", b"name? ")
    output.echo(b"Ada\n")
    assert list(cursor.take()) == [Text("stdout", "before\n")]
    output.add_image(b"png")
    output.release()
    output.release()  # idempotent
    assert list(cursor.take()) == [Image(0), Text("stdout", "name? "), Text("stdin", "Ada\n")]
    assert output.record("stdout") == b"before\nname? "


def test_text_held_behind_a_plot_that_never_came_is_kept_at_the_end() -> None:
    output = RunOutput(limit=1000)
    output.hold()
    output.add("stderr", b"late\n")
    output.end()
    assert output.record("stderr") == b"late\n"
    assert list(Cursor(output).take()) == [Text("stderr", "late\n")]


def test_a_character_cut_between_reads_arrives_whole() -> None:
    output = RunOutput(limit=1000)
    cursor = Cursor(output)
    data = "é€".encode()
    output.add("stdout", data[:1])
    assert list(cursor.take()) == []
    output.add("stdout", data[1:4])
    output.add("stdout", data[4:])
    assert joined(list(cursor.take())) == [Text("stdout", "é€")]


def test_the_cap_is_shared_and_followers_see_what_is_kept() -> None:
    output = RunOutput(limit=10)
    output.add("stdout", b"12345678")
    output.add("stderr", b"abcdef")
    assert output.truncated
    assert output.record("stdout") == b"12345678"
    assert output.record("stderr") == b"ab"
    assert list(Cursor(output).take()) == [Text("stdout", "12345678"), Text("stderr", "ab")]


def test_big_output_comes_in_bounded_pieces() -> None:
    output = RunOutput(limit=10 * EVENT_BYTES)
    output.add("stdout", b"x" * (3 * EVENT_BYTES + 1))
    pieces = list(Cursor(output).take())
    assert [len(p.text) for p in pieces if isinstance(p, Text)] == [EVENT_BYTES] * 3 + [1]


def test_past_the_segment_cap_nothing_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output_module, "MAX_SEGMENTS", 3)
    output = RunOutput(limit=1000)
    for _ in range(3):
        output.add("stdout", b"o")
        output.add("stderr", b"e")
    cursor = Cursor(output)
    live = "".join(p.text for p in cursor.take() if isinstance(p, Text))
    output.end()
    rest = "".join(p.text for p in cursor.rest() if isinstance(p, Text))
    assert sorted(live + rest) == sorted("oeoeoe")
    assert output.record("stdout") == b"ooo"


def test_echo_is_shown_but_never_recorded() -> None:
    output = RunOutput(limit=100)
    output.echo(b"x" * (output_module.ECHO_BYTES + 10))
    assert len(output.parts["stdin"]) == output_module.ECHO_BYTES
    assert output.record("stdout") == output.record("stderr") == b""
    assert not output.truncated


async def test_a_follower_replays_follows_and_ends() -> None:
    live = LiveRun("r", 1000, b"", interactive=True)
    live.output.add("stdout", b"before\n")
    seen: list[object] = []

    async def read() -> None:
        async for item in follow(live):
            seen.append(item)

    reader = asyncio.create_task(read())
    await asyncio.sleep(0)
    assert seen == [Started(input_open=True), Text("stdout", "before\n")]
    live.send(b"hi\n")
    live.output.add("stderr", b"after\n")
    await asyncio.sleep(0)
    live.finish()
    await asyncio.wait_for(reader, 5)
    assert seen[2:] == [Text("stdin", "hi\n"), Text("stderr", "after\n"), InputState(open=False)]


async def test_a_follower_that_does_not_read_holds_nothing_back() -> None:
    live = LiveRun("r", 10_000_000, b"", interactive=False)
    stalled = follow(live)
    assert await anext(stalled) == Started(input_open=False)
    # Output keeps coming and is kept once, however far behind the follower is.
    for _ in range(1000):
        live.output.add("stdout", b"x" * 1000)
    live.finish()
    rest = [item async for item in stalled]
    assert "".join(i.text for i in rest if isinstance(i, Text)) == "x" * 1_000_000


async def test_the_input_pump_writes_in_order_then_eof() -> None:
    read_end, write_end = os.pipe()
    changes: list[bool] = []
    stdin = RunInput(b"first\n", keep_open=True, on_change=lambda: changes.append(True))
    pump = asyncio.create_task(stdin.pump(OwnedFd(write_end)))
    stdin.write(b"second\n")
    assert stdin.open
    stdin.close()
    assert not stdin.open
    await asyncio.wait_for(pump, 5)
    with os.fdopen(read_end, "rb") as reader:
        assert reader.read() == b"first\nsecond\n"
    assert stdin.closed
    assert changes == [True]


async def test_what_may_wait_for_the_program_is_capped() -> None:
    stdin = RunInput(b"", keep_open=True)
    stdin.write(b"x" * (MAX_PENDING_BYTES - 10))
    assert stdin.room == 10
    # A program that closes its input: what waits is dropped, the input is closed.
    read_end, write_end = os.pipe()
    os.close(read_end)
    await asyncio.wait_for(stdin.pump(OwnedFd(write_end)), 5)
    assert stdin.closed
    assert not stdin.open
    assert stdin.pending == 0
