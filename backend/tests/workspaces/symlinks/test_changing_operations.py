"""Writing, deleting, moving and making folders among planted links.

An operation on a link acts on the link itself (a write or a move onto it
replaces it, a delete or a move takes the link, not its target) or is
refused with our error, and a path through a link is always refused.
Nothing outside the workspace changes. These links aim at a stand-in root
under tmp_path, never at the real one.
"""

from __future__ import annotations

import os

import pytest

from sandpit.errors import Conflict, InvalidPath
from sandpit.workspaces.fs import WorkspaceFS
from tests.workspaces.symlinks.conftest import (
    LINKS,
    THROUGH,
    Planted,
    assert_link_refusal,
)

# -- write -------------------------------------------------------------------


@pytest.mark.parametrize("name", [*LINKS, "hard.txt"])
def test_write_replaces_a_link_instead_of_following_it(
    ws: WorkspaceFS, planted: Planted, name: str
) -> None:
    assert ws.write(name, b"new content\n") is False  # something was there
    assert not planted.is_link(name)
    assert (planted.root / name).read_bytes() == b"new content\n"
    assert os.stat(planted.root / name).st_nlink == 1
    assert ws.read(name) == b"new content\n"
    planted.assert_outside_untouched()
    assert not (planted.base / "created-by-following.txt").exists()


@pytest.mark.parametrize("path", THROUGH)
def test_write_refuses_a_path_through_a_link(ws: WorkspaceFS, planted: Planted, path: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        ws.write(path, b"pwned\n")
    assert_link_refusal(caught.value)
    planted.assert_outside_untouched()


# -- delete ------------------------------------------------------------------


@pytest.mark.parametrize("name", LINKS)
def test_delete_removes_the_link_not_its_target(
    ws: WorkspaceFS, planted: Planted, name: str
) -> None:
    ws.delete(name)
    assert not os.path.lexists(planted.root / name)
    planted.assert_outside_untouched()


@pytest.mark.parametrize("path", THROUGH)
@pytest.mark.parametrize("recursive", [False, True])
def test_delete_refuses_a_path_through_a_link(
    ws: WorkspaceFS, planted: Planted, path: str, recursive: bool
) -> None:
    with pytest.raises(InvalidPath) as caught:
        ws.delete(path, recursive=recursive)
    assert_link_refusal(caught.value)
    planted.assert_outside_untouched()


def test_delete_hard_link_removes_only_the_workspace_name(
    ws: WorkspaceFS, planted: Planted
) -> None:
    ws.delete("hard.txt")
    assert not (planted.root / "hard.txt").exists()
    planted.assert_outside_untouched()


def test_recursive_delete_of_a_folder_full_of_links(ws: WorkspaceFS, planted: Planted) -> None:
    box = planted.root / "box"
    (box / "deeper").mkdir(parents=True)
    for name, target in planted.links.items():
        os.symlink(target, box / name)
        os.symlink(target, box / "deeper" / name)
    os.link(planted.outside, box / "deeper" / "hard.txt")
    ws.delete("box", recursive=True)
    assert not box.exists()
    planted.assert_outside_untouched()


def test_recursive_delete_of_the_whole_planted_workspace(ws: WorkspaceFS, planted: Planted) -> None:
    for entry in ws.list():
        if "/" not in entry.path:
            ws.delete(entry.path, recursive=True)
    ws.delete("real", recursive=True)
    assert os.listdir(planted.root) == []
    planted.assert_outside_untouched()


# -- move --------------------------------------------------------------------


@pytest.mark.parametrize("name", LINKS)
def test_move_moves_the_link_itself(ws: WorkspaceFS, planted: Planted, name: str) -> None:
    ws.move(name, f"moved/{name}")
    assert not os.path.lexists(planted.root / name)
    assert os.readlink(planted.root / "moved" / name) == planted.links[name]
    planted.assert_outside_untouched()


@pytest.mark.parametrize("name", LINKS)
def test_move_onto_a_link(ws: WorkspaceFS, planted: Planted, name: str) -> None:
    with pytest.raises(Conflict):
        ws.move("plain.txt", name)
    ws.move("plain.txt", name, overwrite=True)  # replaces the link, like write
    assert not planted.is_link(name)
    assert (planted.root / name).read_bytes() == b"plain\n"
    planted.assert_outside_untouched()


@pytest.mark.parametrize("path", THROUGH)
def test_move_refuses_paths_through_links(ws: WorkspaceFS, planted: Planted, path: str) -> None:
    with pytest.raises(InvalidPath):
        ws.move(path, "stolen.txt")
    with pytest.raises(InvalidPath):
        ws.move("plain.txt", path)
    ws.mkdir("folder")
    with pytest.raises(InvalidPath):
        ws.move("folder", path, overwrite=True)
    assert (planted.root / "plain.txt").exists()
    assert not (planted.root / "stolen.txt").exists()
    planted.assert_outside_untouched()


# -- mkdir -------------------------------------------------------------------


@pytest.mark.parametrize("name", LINKS)
def test_mkdir_on_a_link_is_a_conflict(ws: WorkspaceFS, planted: Planted, name: str) -> None:
    with pytest.raises(Conflict) as caught:
        ws.mkdir(name)
    assert "symbolic link" in caught.value.detail
    assert planted.is_link(name)
    planted.assert_outside_untouched()


@pytest.mark.parametrize("path", [*THROUGH, "to_sibling/newdir", "to_parent/newdir"])
def test_mkdir_refuses_paths_through_links(ws: WorkspaceFS, planted: Planted, path: str) -> None:
    with pytest.raises(InvalidPath):
        ws.mkdir(path)
    planted.assert_outside_untouched()
