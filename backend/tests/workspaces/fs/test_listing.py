"""Listing a workspace and counting its usage with `WorkspaceFS`.

The listing is recursive, sorted and sized; it shows links and special
files without opening them, leaves out names the API cannot address and
stops at the deepest valid path. The usage counts every non-folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandpit.workspaces.fs import TEMP_PREFIX, Entry, Usage, WorkspaceFS
from tests.workspaces.fs.conftest import paths

# -- list and usage ----------------------------------------------------------


def test_list_is_recursive_sorted_and_sized(ws: WorkspaceFS, root: Path) -> None:
    ws.write("z.py", b"12345")
    ws.write("a/b.txt", b"")
    ws.write("a/c/d.md", b"# hi\n")
    ws.mkdir("empty")
    entries = ws.list()
    assert [(e.path, e.kind, e.size) for e in entries] == [
        ("a/b.txt", "file", 0),
        ("a/c/d.md", "file", 5),
        ("z.py", "file", 5),
    ]
    assert entries[2].mtime == pytest.approx(os.stat(root / "z.py").st_mtime)
    assert isinstance(entries[0], Entry)
    with_dirs = [(e.path, e.kind, e.size) for e in ws.list(include_dirs=True)]
    assert with_dirs == [
        ("a", "dir", 0),
        ("a/b.txt", "file", 0),
        ("a/c", "dir", 0),
        ("a/c/d.md", "file", 5),
        ("empty", "dir", 0),
        ("z.py", "file", 5),
    ]


def test_list_shows_links_and_special_files_without_opening_them(
    ws: WorkspaceFS, root: Path
) -> None:
    ws.write("real.txt", b"hello")
    os.symlink("real.txt", root / "alias.txt")
    os.mkfifo(root / "pipe")
    assert [(e.path, e.kind, e.size) for e in ws.list()] == [
        ("alias.txt", "link", 0),
        ("pipe", "other", 0),
        ("real.txt", "file", 5),
    ]


def test_list_leaves_out_names_the_api_cannot_address(ws: WorkspaceFS, root: Path) -> None:
    ws.write("ok.txt", b"fine")
    (root / "new\nline.txt").write_bytes(b"1")
    (root / "e\u0301.txt").write_bytes(b"22")  # not NFC: the API could not name it
    os.mkdir(os.fsencode(root) + b"/bad\xffdir")  # not UTF-8
    with open(os.fsencode(root) + b"/bad\xffdir/inner.txt", "wb") as handle:
        handle.write(b"333")
    (root / f"{TEMP_PREFIX}0123").write_bytes(b"4444")
    assert paths(ws, include_dirs=True) == ["ok.txt"]
    # They still count towards the quota.
    assert ws.usage() == Usage(bytes=4 + 1 + 2 + 3 + 4, files=5)


def test_list_does_not_descend_past_the_deepest_valid_path(ws: WorkspaceFS, root: Path) -> None:
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(700):  # deeper than any 1024-byte path can reach
            os.mkdir("d", dir_fd=fd)
            child = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("leaf.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    finally:
        os.close(fd)
    listed = paths(ws, include_dirs=True)
    assert len(listed) == 512
    assert max(len(p) for p in listed) == 1023
    ws.delete("d", recursive=True)
    assert paths(ws, include_dirs=True) == []


def test_usage_counts_every_non_folder(ws: WorkspaceFS, root: Path) -> None:
    assert ws.usage() == Usage(bytes=0, files=0)
    ws.write("a.txt", b"abc")
    ws.write("d/b.txt", b"de")
    os.symlink("a.txt", root / "link")
    assert ws.usage() == Usage(bytes=5, files=3)
