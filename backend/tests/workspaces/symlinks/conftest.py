"""The planted workspace of the link tests, and what they share.

Links planted by sandbox code must never be followed (security invariant 4).
Each test plants links inside a workspace -- to /etc/passwd, to /, to "..",
to a sibling workspace, to a file in it, dangling ones, links as intermediate
folders, and a hard link to a file outside -- and runs one operation against
them with each resolver. Afterwards everything outside the workspace must be
exactly as it was, and the operation must have refused with our error or
acted on the link itself (see the `sandpit.workspaces.fs` docstring).

Links to the real / and /etc/passwd are planted only for operations that
cannot change anything (read, list, usage: `readonly_ws`). Tests often run
as root, and a regression that followed links in write, move, mkdir or
delete would then destroy the host, so those operations meet the same links
aimed at a stand-in root (``fakeroot/etc/passwd``) under tmp_path instead.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sandpit.errors import InvalidPath, SandpitError
from sandpit.workspaces._resolve import Resolver
from sandpit.workspaces.fs import WorkspaceFS

SIBLING_SECRET = b"the other user's secret\n"
OUTSIDE = b"a file outside every workspace\n"
FAKE_PASSWD = b"root:x:0:0:root:/root:/bin/bash\n"


class Planted:
    """A workspace full of links, a sibling workspace, and files outside both."""

    def __init__(self, tmp_path: Path) -> None:
        self.base = tmp_path
        self.root = tmp_path / "ws"
        self.sibling = tmp_path / "sibling"
        self.sibling.mkdir()
        (self.sibling / "secret.txt").write_bytes(SIBLING_SECRET)
        (self.sibling / "sub").mkdir()
        self.outside = tmp_path / "outside.txt"
        self.outside.write_bytes(OUTSIDE)
        self.fake_root = tmp_path / "fakeroot"
        (self.fake_root / "etc").mkdir(parents=True)
        (self.fake_root / "etc" / "passwd").write_bytes(FAKE_PASSWD)
        self.root.mkdir()
        (self.root / "real").mkdir()
        (self.root / "real" / "inside.txt").write_bytes(b"inside\n")
        (self.root / "real" / "deeper").mkdir()
        (self.root / "real" / "deeper" / "deep.txt").write_bytes(b"deep\n")
        (self.root / "plain.txt").write_bytes(b"plain\n")
        self.links = {
            "to_passwd": str(self.fake_root / "etc" / "passwd"),
            "to_root": str(self.fake_root),
            "to_parent": "..",
            "to_sibling": str(self.sibling),
            "to_sibling_rel": "../sibling",
            "to_inside": "real",  # stays inside, and is still never followed
            "to_secret": str(self.sibling / "secret.txt"),
            "dangling": str(tmp_path / "created-by-following.txt"),
            "dangling_dir": str(tmp_path / "no-such-dir" / "x"),
        }
        for name, target in self.links.items():
            os.symlink(target, self.root / name)
        os.symlink(str(self.sibling), self.root / "real" / "inner_link")
        os.link(self.outside, self.root / "hard.txt")
        self.before = self.outside_state()

    def outside_state(self) -> dict[str, str]:
        """Everything outside the workspace that a followed link could touch."""
        state = {"/etc/passwd": _digest(Path("/etc/passwd").read_bytes())}
        for path in sorted(self.base.rglob("*")):
            if self.root in path.parents or path == self.root:
                continue
            if path.is_symlink():
                state[str(path)] = "link:" + os.readlink(path)
            elif path.is_file():
                st = path.stat()
                state[str(path)] = f"file:{_digest(path.read_bytes())}:{st.st_mode:o}"
            else:
                state[str(path)] = f"dir:{path.stat().st_mode:o}"
        return state

    def assert_outside_untouched(self) -> None:
        assert self.outside_state() == self.before
        assert self.outside.read_bytes() == OUTSIDE
        assert (self.sibling / "secret.txt").read_bytes() == SIBLING_SECRET

    def is_link(self, name: str) -> bool:
        return (self.root / name).is_symlink()

    def plant_system_links(self) -> None:
        """Add links to the real / and /etc/passwd (for read-only tests only)."""
        for name, target in SYSTEM_LINKS.items():
            os.symlink(target, self.root / name)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    return Planted(tmp_path)


@pytest.fixture
def ws(planted: Planted, resolver: Resolver) -> WorkspaceFS:
    return WorkspaceFS(planted.root, resolver=resolver)


@pytest.fixture
def readonly_ws(planted: Planted, resolver: Resolver) -> WorkspaceFS:
    """The planted workspace plus links to the real system: never modify it."""
    planted.plant_system_links()
    return WorkspaceFS(planted.root, resolver=resolver)


SYSTEM_LINKS = {"sys_passwd": "/etc/passwd", "sys_root": "/"}
SYSTEM_THROUGH = ["sys_root/etc/passwd", "sys_root/etc/hostname"]
LINKS = [
    "to_passwd",
    "to_root",
    "to_parent",
    "to_sibling",
    "to_sibling_rel",
    "to_inside",
    "to_secret",
    "dangling",
    "dangling_dir",
]
# Paths that go *through* a link to a folder, and what they would reach.
THROUGH = [
    "to_root/etc/passwd",
    "to_root/etc/new.txt",
    "to_parent/sibling/secret.txt",
    "to_parent/outside.txt",
    "to_sibling/secret.txt",
    "to_sibling_rel/secret.txt",
    "to_inside/inside.txt",
    "to_inside/deeper/deep.txt",  # the link is not the last folder name
    "real/inner_link/secret.txt",
    "to_sibling/sub/new.txt",
    "dangling_dir/new.txt",
]


def assert_link_refusal(error: SandpitError) -> None:
    assert isinstance(error, InvalidPath)
    assert "is a symbolic link" in error.detail
    assert error.detail.endswith(".")
