"""Reading, listing and counting a workspace full of planted links.

These operations cannot change anything, so they also meet links to the
real / and /etc/passwd. A link, or a path through one, is refused with our
error, and so is a hard link to a file outside; the listing and the usage
report links without following them. Nothing outside the workspace changes.
"""

from __future__ import annotations

import pytest

from sandpit.errors import BadRequest, InvalidPath
from sandpit.workspaces.fs import WorkspaceFS
from tests.workspaces.symlinks.conftest import (
    LINKS,
    OUTSIDE,
    SYSTEM_LINKS,
    SYSTEM_THROUGH,
    THROUGH,
    Planted,
    assert_link_refusal,
)

# -- read --------------------------------------------------------------------


@pytest.mark.parametrize("name", [*LINKS, *SYSTEM_LINKS])
def test_read_refuses_a_link(readonly_ws: WorkspaceFS, planted: Planted, name: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        readonly_ws.read(name)
    assert_link_refusal(caught.value)
    assert f"'{name}' is a symbolic link" in caught.value.detail
    planted.assert_outside_untouched()


@pytest.mark.parametrize("path", [*THROUGH, *SYSTEM_THROUGH])
def test_read_refuses_a_path_through_a_link(
    readonly_ws: WorkspaceFS, planted: Planted, path: str
) -> None:
    with pytest.raises(InvalidPath) as caught:
        readonly_ws.read(path)
    assert_link_refusal(caught.value)
    planted.assert_outside_untouched()


def test_read_refuses_a_hard_link(ws: WorkspaceFS, planted: Planted) -> None:
    with pytest.raises(BadRequest) as caught:
        ws.read("hard.txt")
    assert "more than one hard link" in caught.value.detail
    planted.assert_outside_untouched()


# -- list --------------------------------------------------------------------


def test_list_reports_links_without_following_them(
    readonly_ws: WorkspaceFS, planted: Planted
) -> None:
    listed = readonly_ws.list(include_dirs=True)
    entries = {entry.path: (entry.kind, entry.size) for entry in listed}
    expected = {name: ("link", 0) for name in [*LINKS, *SYSTEM_LINKS]}
    expected |= {
        "real": ("dir", 0),
        "real/inside.txt": ("file", 7),
        "real/deeper": ("dir", 0),
        "real/deeper/deep.txt": ("file", 5),
        "real/inner_link": ("link", 0),
        "plain.txt": ("file", 6),
        "hard.txt": ("file", len(OUTSIDE)),
    }
    assert entries == expected
    planted.assert_outside_untouched()


def test_usage_does_not_follow_links(readonly_ws: WorkspaceFS, planted: Planted) -> None:
    usage = readonly_ws.usage()
    # The links, inner_link, three files and the hard link.
    assert usage.files == len(LINKS) + len(SYSTEM_LINKS) + 5
    assert usage.bytes == 7 + 5 + 6 + len(OUTSIDE)
    planted.assert_outside_untouched()
