"""Deleting, moving and making folders with `WorkspaceFS`, and the workspace root.

A folder is deleted with its contents only when asked, however deep it is.
A move does not replace what is there unless asked and never puts a folder
inside itself. mkdir makes the parents and says whether it made anything.
A missing root is not found until `ensure_root`. No operation leaks a file
descriptor, even when it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandpit.errors import (
    BadRequest,
    Conflict,
    NotFound,
    SandpitError,
)
from sandpit.workspaces._resolve import Resolver
from sandpit.workspaces.fs import WorkspaceFS
from tests.workspaces.fs.conftest import paths

# -- delete ------------------------------------------------------------------


def test_delete_file(ws: WorkspaceFS) -> None:
    ws.write("a.txt", b"x")
    ws.delete("a.txt")
    assert paths(ws) == []
    with pytest.raises(NotFound):
        ws.delete("a.txt")


def test_delete_empty_folder(ws: WorkspaceFS) -> None:
    ws.mkdir("empty")
    ws.delete("empty")
    assert paths(ws, include_dirs=True) == []


def test_delete_non_empty_folder_needs_recursive(ws: WorkspaceFS) -> None:
    ws.write("src/a.py", b"x")
    with pytest.raises(Conflict) as caught:
        ws.delete("src")
    assert "not empty" in caught.value.detail
    assert paths(ws) == ["src/a.py"]
    ws.delete("src", recursive=True)
    assert paths(ws, include_dirs=True) == []


def test_delete_recursive_tree_of_every_kind(ws: WorkspaceFS, root: Path) -> None:
    for name in ("t/a.txt", "t/b/c.txt", "t/b/d/e.txt", "t/f/g/h/i.txt", "keep.txt"):
        ws.write(name, b"x")
    ws.mkdir("t/empty/inner")
    os.mkfifo(root / "t" / "b" / "pipe")
    os.symlink("../../keep.txt", root / "t" / "b" / "link")
    ws.delete("t", recursive=True)
    assert paths(ws, include_dirs=True) == ["keep.txt"]


def test_delete_recursive_of_a_very_deep_tree(ws: WorkspaceFS, root: Path) -> None:
    """Deeper than PATH_MAX and than Python's recursion limit."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(1500):
            os.mkdir("deep-folder-name", dir_fd=fd)
            child = os.open("deep-folder-name", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("leaf.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    finally:
        os.close(fd)
    ws.delete("deep-folder-name", recursive=True)
    assert os.listdir(root) == []


# -- move --------------------------------------------------------------------


def test_rename_file(ws: WorkspaceFS) -> None:
    ws.write("old.py", b"code")
    ws.move("old.py", "new.py")
    assert paths(ws) == ["new.py"]
    assert ws.read("new.py") == b"code"


def test_move_file_into_new_folder(ws: WorkspaceFS) -> None:
    ws.write("a.py", b"code")
    ws.move("a.py", "pkg/sub/a.py")
    assert paths(ws) == ["pkg/sub/a.py"]


def test_move_folder(ws: WorkspaceFS) -> None:
    ws.write("src/a.py", b"1")
    ws.write("src/lib/b.py", b"2")
    ws.move("src", "moved/src2")
    assert paths(ws) == ["moved/src2/a.py", "moved/src2/lib/b.py"]


def test_move_conflicts(ws: WorkspaceFS) -> None:
    ws.write("a.txt", b"a")
    ws.write("b.txt", b"b")
    with pytest.raises(Conflict) as caught:
        ws.move("a.txt", "b.txt")
    assert "already exists" in caught.value.detail
    assert ws.read("b.txt") == b"b"
    ws.move("a.txt", "b.txt", overwrite=True)
    assert paths(ws) == ["b.txt"]
    assert ws.read("b.txt") == b"a"


def test_move_between_files_and_folders(ws: WorkspaceFS) -> None:
    ws.write("f.txt", b"f")
    ws.write("full/x", b"x")
    ws.mkdir("empty")
    with pytest.raises(Conflict):
        ws.move("f.txt", "empty", overwrite=True)
    with pytest.raises(Conflict):
        ws.move("empty", "f.txt", overwrite=True)
    with pytest.raises(Conflict) as caught:
        ws.move("empty", "full", overwrite=True)
    assert "not empty" in caught.value.detail
    ws.write("other/y", b"y")
    ws.move("other", "empty", overwrite=True)  # a folder may replace an empty folder
    assert ws.read("empty/y") == b"y"


def test_move_folder_inside_itself(ws: WorkspaceFS) -> None:
    ws.write("src/a.py", b"1")
    with pytest.raises(BadRequest) as caught:
        ws.move("src", "src/inner/src")
    assert "inside itself" in caught.value.detail
    assert paths(ws) == ["src/a.py"]


def test_move_missing_source_and_same_place(ws: WorkspaceFS) -> None:
    with pytest.raises(NotFound):
        ws.move("nope", "there")
    assert paths(ws, include_dirs=True) == []
    ws.write("a.txt", b"a")
    ws.move("a.txt", "a.txt")
    assert ws.read("a.txt") == b"a"


# -- mkdir and the root --------------------------------------------------------


def test_mkdir(ws: WorkspaceFS) -> None:
    assert ws.mkdir("a/b/c") is True
    assert ws.mkdir("a/b/c") is False
    assert ws.mkdir("a") is False
    assert paths(ws, include_dirs=True) == ["a", "a/b", "a/b/c"]


def test_mkdir_where_a_file_is(ws: WorkspaceFS) -> None:
    ws.write("a.txt", b"")
    with pytest.raises(Conflict) as caught:
        ws.mkdir("a.txt")
    assert "already exists and is not a folder" in caught.value.detail


def test_missing_root(tmp_path: Path, resolver: Resolver) -> None:
    ws = WorkspaceFS(tmp_path / "never-created", resolver=resolver)
    with pytest.raises(NotFound):
        ws.list()
    ws.ensure_root()
    ws.ensure_root()  # idempotent
    assert ws.list() == []


@pytest.fixture
def closed_fds_checked() -> Iterator[None]:
    before = set(os.listdir("/proc/self/fd"))
    yield
    assert set(os.listdir("/proc/self/fd")) == before


@pytest.mark.usefixtures("closed_fds_checked")
def test_no_file_descriptor_leaks(ws: WorkspaceFS) -> None:
    ws.write("a/b/c.txt", b"x")
    ws.read("a/b/c.txt")
    ws.list(include_dirs=True)
    ws.move("a", "z")
    ws.mkdir("m/n")
    for call in (
        lambda: ws.read("missing"),
        lambda: ws.read("z/b"),
        lambda: ws.write("z/b/c.txt/x", b""),
        lambda: ws.delete("z"),
        lambda: ws.move("z", "z/q"),
    ):
        with pytest.raises(SandpitError):
            call()
    ws.delete("z", recursive=True)
    ws.usage()
