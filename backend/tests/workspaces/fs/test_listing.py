"""Listing a workspace and counting its usage with `WorkspaceFS`.

The listing is recursive, sorted and sized; it shows links and special
files without opening them, lists names the API cannot take under an
escaped path (deletable by it) and stops at the deepest valid path. The
usage counts every non-folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sandpit.errors import InvalidPath, NotFound
from sandpit.workspaces.fs import TEMP_PREFIX, Entry, Usage, WorkspaceFS
from tests.workspaces.fs.conftest import assert_sentence, paths

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


def test_names_the_api_cannot_take_are_listed_escaped_and_deletable(
    ws: WorkspaceFS, root: Path
) -> None:
    ws.write("ok.txt", b"fine")
    (root / "new\nline.txt").write_bytes(b"1")
    (root / "e\u0301.txt").write_bytes(b"22")  # not NFC: the API could not name it
    os.mkdir(os.fsencode(root) + b"/bad\xffdir")  # not UTF-8
    with open(os.fsencode(root) + b"/bad\xffdir/inner.txt", "wb") as handle:
        handle.write(b"333")
    (root / "\x1b[2J\x1b]0;pwned\x07cls").write_bytes(b"4")  # terminal escapes
    (root / "invoice\u202efdp.exe").write_bytes(b"5")  # shows as "invoiceexe.pdf"
    (root / f"{TEMP_PREFIX}0123").write_bytes(b"4444")
    listed = [(e.path, e.kind, e.size, e.escaped) for e in ws.list(include_dirs=True)]
    assert listed == [
        ("\\u001b[2J\\u001b]0;pwned\\u0007cls", "file", 1, True),
        ("bad\\xffdir", "dir", 0, True),
        ("bad\\xffdir/inner.txt", "file", 3, True),
        ("e\\u0301.txt", "file", 2, True),
        ("invoice\\u202efdp.exe", "file", 1, True),
        ("new\\u000aline.txt", "file", 1, True),
        ("ok.txt", "file", 4, False),
    ]
    # Printable ASCII only: nothing in a listed path can move a cursor or reorder text.
    assert all(e.path.isascii() and e.path.isprintable() for e in ws.list(include_dirs=True))
    assert ws.usage() == Usage(bytes=4 + 1 + 2 + 3 + 1 + 1 + 4, files=7)
    # Each is deleted by its listed path, and only it.
    for entry in ws.list():
        if entry.escaped and entry.path != "bad\\xffdir/inner.txt":
            ws.delete_escaped(entry.path)
    ws.delete_escaped("bad\\xffdir", recursive=True)
    assert paths(ws, include_dirs=True) == ["ok.txt"]
    assert sorted(os.listdir(root)) == [f"{TEMP_PREFIX}0123", "ok.txt"]
    assert ws.usage() == Usage(bytes=4 + 4, files=2)


@pytest.mark.parametrize(
    ("escaped", "error"),
    [
        ("a\\q", InvalidPath),  # no such escape
        ("a\\x4", InvalidPath),  # too few digits
        ("a\\x41", InvalidPath),  # an ASCII byte is never escaped
        ("a\\ud800", InvalidPath),  # a surrogate
        ("a\\U00110000", InvalidPath),  # past Unicode
        ("..", InvalidPath),
        ("a/\\u002e\\u002e", InvalidPath),  # ".." escaped
        ("a\\u0000b", InvalidPath),  # NUL
        ("\\u002f", InvalidPath),  # "/" in a name
        (f"{TEMP_PREFIX}x\\u0001", InvalidPath),  # our temporary files
        ("missing\\u0001", NotFound),
    ],
)
def test_a_malformed_or_missing_escaped_path_is_refused(
    ws: WorkspaceFS, escaped: str, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        ws.delete_escaped(escaped)
    assert_sentence(raised.value)  # type: ignore[arg-type]


def test_an_escaped_delete_never_follows_a_link(
    ws: WorkspaceFS, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_bytes(b"keep")
    os.symlink(outside, root / "link\x01")
    with pytest.raises(InvalidPath):
        ws.delete_escaped("link\\u0001/keep.txt")  # a link on the way is refused
    ws.delete_escaped("link\\u0001", recursive=True)  # the link itself goes
    assert (outside / "keep.txt").read_bytes() == b"keep"
    assert paths(ws, include_dirs=True) == []


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
