"""Workspace groups: the gid pool, the hand-over of a tree, and their settings.

The pool is pure logic; `hand_over` runs for real on a small tree (as root,
like the server). The sandboxes that use both are in
tests/exploits/test_shared_workspace_to_the_host.py and test_spec_options.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from sandpit.config import Settings
from sandpit.sandbox.base import SandboxError
from sandpit.sandbox.ownership import WORKSPACE_MODE, hand_over, open_workspace
from sandpit.sandbox.uids import GroupPool, host_groups_in
from sandpit.sandboxes import SandboxSetupError, workspace_groups


def test_a_workspace_keeps_its_gid_while_any_of_its_sandboxes_holds_it() -> None:
    pool = GroupPool(5000, 2)
    own = pool.take("/ws/a", "sandbox-1")
    assert pool.take("/ws/a", "lsp-1") == own  # the second sandbox on it shares it
    other = pool.take("/ws/b", "sandbox-2")
    assert other != own
    with pytest.raises(SandboxError, match="Too many workspaces"):
        pool.take("/ws/c", "sandbox-3")
    pool.give_back("sandbox-1")
    pool.give_back("sandbox-1")  # twice: harmless, the language servers' hold stays
    assert pool.gid_of("/ws/a") == own
    pool.give_back("lsp-1")
    assert pool.gid_of("/ws/a") is None
    assert pool.take("/ws/c", "sandbox-3") == own  # freed with the last holder
    pool.give_back("never-held")


def test_the_gid_range_starts_above_system_groups() -> None:
    with pytest.raises(ValueError, match="1000 or above"):
        GroupPool(999, 10)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A workspace as an earlier version left it: top folder 0755, root's files."""
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "main.py").write_text("print(1)\n")
    (root / "link").symlink_to("/etc/passwd")
    root.chmod(0o755)
    return root


def _owners(root: Path) -> dict[str, tuple[int, int]]:
    found = {".": (root.stat().st_uid, root.stat().st_gid)}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = (path.lstat().st_uid, path.lstat().st_gid)
    return found


def test_hand_over_gives_the_tree_to_the_sandbox_and_closes_the_top(tree: Path) -> None:
    passwd = Path("/etc/passwd").stat()
    fd = open_workspace(tree)
    try:
        hand_over(fd, 300_001, 310_001, share=False)
    finally:
        os.close(fd)
    assert set(_owners(tree).values()) == {(300_001, 310_001)}  # the link itself too
    assert stat.S_IMODE(tree.stat().st_mode) == WORKSPACE_MODE == 0o750
    after = Path("/etc/passwd").stat()
    assert (after.st_uid, after.st_gid) == (passwd.st_uid, passwd.st_gid)  # never followed


def test_a_shared_hand_over_keeps_owners_and_sets_the_group(tree: Path) -> None:
    fd = open_workspace(tree)
    try:
        hand_over(fd, 300_001, 310_001, share=False)
        os.chown(tree / "main.py", 300_005, 310_001)  # written since, by its sandbox
        hand_over(fd, 300_002, 310_002, share=True)
    finally:
        os.close(fd)
    owners = _owners(tree)
    assert owners.pop("main.py") == (300_005, 310_002)
    assert set(owners.values()) == {(300_001, 310_002)}
    assert stat.S_IMODE(tree.stat().st_mode) == 0o750


def test_host_groups_in_the_range_are_found() -> None:
    assert host_groups_in(0, 1) == [0]  # root's group
    assert host_groups_in(1_900_000, 1000) == []


def test_a_range_holding_a_host_group_is_refused(tmp_path: Path) -> None:
    # 65534: nogroup (Debian), nobody's primary group.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        python_sandbox_path=tmp_path,
        sandbox_gid_base=65_000,
        sandbox_gid_count=1000,
    )
    with pytest.raises(SandboxSetupError, match="Host groups use gids"):
        workspace_groups(settings)


def test_gids_must_lie_apart_from_the_sandbox_uids(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="overlap the sandbox uids"):
        Settings(  # type: ignore[call-arg]
            _env_file=None,
            python_sandbox_path=tmp_path,
            sandbox_uid_base=200_000,
            sandbox_gid_base=205_000,
        )
