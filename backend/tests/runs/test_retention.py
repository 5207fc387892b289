"""Which runs are pruned (`sandpit.runs.retention.doomed`) and where plots go
(`sandpit.runs.plots.PlotStore`): pure logic and a real directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandpit.runs.plots import PlotStore
from sandpit.runs.retention import doomed


def test_the_newest_within_the_count_are_kept() -> None:
    sizes = [(f"r{i}", 10) for i in range(6)]
    assert doomed(sizes, keep=4, max_bytes=1000) == ["r4", "r5"]
    assert doomed(sizes, keep=10, max_bytes=1000) == []


def test_the_newest_within_the_bytes_are_kept_the_first_always() -> None:
    assert doomed([("a", 50), ("b", 40), ("c", 20)], keep=10, max_bytes=100) == ["c"]
    # A smaller, older run still fits after a large one is skipped.
    assert doomed([("a", 50), ("b", 60), ("c", 40)], keep=10, max_bytes=100) == ["b"]
    # The newest is kept even when it alone passes the budget.
    assert doomed([("big", 500), ("b", 1)], keep=10, max_bytes=100) == ["b"]


def test_plots_go_to_disk_as_they_come(tmp_path: Path) -> None:
    store = PlotStore(tmp_path / "run")
    store.add(b"\x89PNG one")
    store.add(b"\x89PNG two!")
    assert len(store) == 2
    assert store.bytes_stored == 17
    assert store.get(1) == tmp_path / "run" / "1.png"
    assert (tmp_path / "run" / "0.png").read_bytes() == b"\x89PNG one"
    assert (tmp_path / "run" / "1.png").stat().st_mode & 0o777 == 0o600
    assert store.in_memory() == []
    with pytest.raises(IndexError):
        store.get(2)


def test_without_a_directory_plots_stay_in_memory() -> None:
    store = PlotStore()
    store.add(b"png")
    assert store.get(0) == b"png"
    assert store.in_memory() == [b"png"]


async def test_a_prepared_plot_is_written_off_the_loop_and_counted_by_its_add(
    tmp_path: Path,
) -> None:
    store = PlotStore(tmp_path / "run")
    await store.prepare(b"\x89PNG one")
    path = tmp_path / "run" / "0.png"
    assert (path.read_bytes(), len(store)) == (b"\x89PNG one", 0)  # on disk, not yet shown
    path.write_bytes(b"marker")  # `add` must not write it again (on the loop)
    store.add(b"\x89PNG one")
    assert (len(store), store.bytes_stored, path.read_bytes()) == (1, 8, b"marker")
    store.add(b"\x89PNG two")  # not prepared: written by `add` itself
    assert (tmp_path / "run" / "1.png").read_bytes() == b"\x89PNG two"


async def test_a_run_ending_during_a_plots_write_leaves_no_uncounted_file(tmp_path: Path) -> None:
    store = PlotStore(tmp_path / "run")
    writing = asyncio.create_task(store.prepare(b"\x89PNG" + bytes(8 * 2**20)))
    await asyncio.sleep(0)  # the write has begun in its thread
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    # Nor a folder: a run without plots has none (pruning removes only theirs).
    assert (len(store), (tmp_path / "run").exists()) == (0, False)


async def test_a_later_plots_cut_write_leaves_the_shown_ones(tmp_path: Path) -> None:
    store = PlotStore(tmp_path / "run")
    store.add(b"\x89PNG one")
    writing = asyncio.create_task(store.prepare(b"\x89PNG" + bytes(8 * 2**20)))
    await asyncio.sleep(0)
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    assert (len(store), sorted(p.name for p in (tmp_path / "run").iterdir())) == (1, ["0.png"])
