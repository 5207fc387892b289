"""Sandbox code changing the workspace while an operation runs on it.

Threads swap a folder or a file for a link (or a FIFO) as fast as they can,
and injected faults make a swap or a move land exactly between our check and
our use. Whatever the interleaving, no link is followed, no read hangs, and
nothing outside the workspace, or outside the folder being deleted, is
reached or changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from sandpit.errors import BadRequest, SandpitError
from sandpit.workspaces import _io, _tree
from sandpit.workspaces.fs import WorkspaceFS
from tests.workspaces.symlinks.conftest import (
    SIBLING_SECRET,
    Planted,
)

# -- races: a folder swapped for a link while we work ---------------------------


def _exchange(root: Path, a: str, b: str) -> None:
    """Atomically swap two names (renameat2 RENAME_EXCHANGE), as sandbox code could."""
    libc = ctypes.CDLL(None, use_errno=True)
    rename_exchange = 2
    if libc.renameat2(-100, f"{root}/{a}".encode(), -100, f"{root}/{b}".encode(), rename_exchange):
        raise OSError(ctypes.get_errno(), "renameat2")


def _operations_on_d(ws: WorkspaceFS, round_: int) -> list[Callable[[], object]]:
    return [
        lambda: ws.write(f"d/new-{round_}.txt", b"x"),
        lambda: ws.read("d/secret.txt"),
        lambda: ws.mkdir(f"d/dir-{round_}"),
        lambda: ws.move(f"d/new-{round_}.txt", "moved.txt", overwrite=True),
        lambda: ws.delete("d/secret.txt"),
        lambda: ws.delete(f"d/dir-{round_}", recursive=True),
        ws.list,
    ]


def test_a_folder_swapped_for_a_link_mid_operation(ws: WorkspaceFS, planted: Planted) -> None:
    """A thread keeps swapping "d" between a real folder and a link to the sibling.

    Whatever interleaving happens, no operation may reach the sibling: it
    either works inside the workspace or refuses with our error.
    """
    (planted.root / "d").mkdir()
    (planted.root / "d" / "secret.txt").write_bytes(b"inside copy\n")
    os.symlink(planted.sibling, planted.root / "swap")
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            _exchange(planted.root, "d", "swap")

    thread = threading.Thread(target=swapper)
    thread.start()
    try:
        for round_ in range(150):
            for operation in _operations_on_d(ws, round_):
                try:
                    result = operation()
                except SandpitError:
                    continue
                assert result != SIBLING_SECRET
            # Refill through the API: a plain write_bytes("d/secret.txt") here
            # would itself follow the link whenever "d" is swapped.
            with contextlib.suppress(SandpitError):
                ws.write("d/secret.txt", b"inside copy\n")
    finally:
        stop.set()
        thread.join()
    planted.assert_outside_untouched()


def test_a_file_swapped_for_a_link_or_a_fifo_while_it_is_read(
    ws: WorkspaceFS, planted: Planted
) -> None:
    """The last name changes kind between our checks and the open: still never followed.

    A FIFO must not hang the read (O_NONBLOCK), a link must not be followed
    (O_NOFOLLOW), and whatever was opened is checked again with fstat.
    """
    (planted.root / "f.txt").write_bytes(b"inside\n")
    os.symlink(planted.sibling / "secret.txt", planted.root / "swap_link")
    os.mkfifo(planted.root / "swap_fifo")
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            _exchange(planted.root, "f.txt", "swap_link")
            _exchange(planted.root, "f.txt", "swap_fifo")

    thread = threading.Thread(target=swapper)
    thread.start()
    outcomes: set[str] = set()
    try:
        for _ in range(3000):
            try:
                data = ws.read("f.txt")
            except SandpitError as exc:
                outcomes.add(type(exc).__name__)
                continue
            assert data == b"inside\n"
            outcomes.add("read")
    finally:
        stop.set()
        thread.join()
    assert "read" in outcomes
    planted.assert_outside_untouched()


# -- races made certain: the swap happens exactly between our check and our use --


@pytest.mark.parametrize("swap_to", ["link", "fifo", "hard_link"])
def test_read_rechecks_what_it_opened(
    ws: WorkspaceFS, planted: Planted, monkeypatch: pytest.MonkeyPatch, swap_to: str
) -> None:
    """lstat sees a plain file; by the time we open it, it is something else.

    The fault is injected after the real lstat, on the real filesystem: a link
    must not be followed (O_NOFOLLOW), a FIFO must not block (O_NONBLOCK), and
    a hard link must be caught by the fstat of what was actually opened.
    """
    victim = planted.root / "f.txt"
    victim.write_bytes(b"inside\n")
    real_lstat = _io.lstat

    def lstat_then_swap(dir_fd: int, name: str) -> os.stat_result | None:
        result = real_lstat(dir_fd, name)
        if name == "f.txt":
            replacement = planted.root / "replacement"
            if swap_to == "link":
                os.symlink(planted.sibling / "secret.txt", replacement)
            elif swap_to == "fifo":
                os.mkfifo(replacement)
            else:
                os.link(planted.sibling / "secret.txt", replacement)
            os.rename(replacement, victim)
        return result

    monkeypatch.setattr(_io, "lstat", lstat_then_swap)
    with pytest.raises(BadRequest):
        ws.read("f.txt")
    if swap_to == "hard_link":
        os.unlink(victim)  # the second name of the sibling's file
    planted.assert_outside_untouched()


def test_recursive_delete_notices_a_folder_moved_away_under_it(
    ws: WorkspaceFS, planted: Planted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While we empty t/a (or t/z), a program moves it to keep/. Going back up
    through ".." would land in keep/, where t's other folder names also exist;
    the identity check must send us back to t instead."""
    for name in ("a", "z"):
        (planted.root / "t" / name).mkdir(parents=True)
        (planted.root / "t" / name / "junk.txt").write_bytes(b"junk\n")
        (planted.root / "keep" / name).mkdir(parents=True)
        (planted.root / "keep" / name / "precious.txt").write_bytes(b"precious\n")
    real_empty_folder = _tree._empty_folder
    moved: list[str] = []

    def empty_folder_after_moving_it(fd: int) -> list[str]:
        inode = os.fstat(fd).st_ino
        for name in ("a", "z"):
            path = planted.root / "t" / name
            if not moved and path.exists() and path.stat().st_ino == inode:
                os.rename(path, planted.root / "keep" / f"moved-{name}")
                moved.append(name)
        return real_empty_folder(fd)

    monkeypatch.setattr(_tree, "_empty_folder", empty_folder_after_moving_it)
    ws.delete("t", recursive=True)
    assert moved
    assert not (planted.root / "t").exists()
    for name in ("a", "z"):
        assert (planted.root / "keep" / name / "precious.txt").read_bytes() == b"precious\n"
    planted.assert_outside_untouched()
