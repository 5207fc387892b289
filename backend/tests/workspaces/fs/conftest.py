"""Fixtures and helpers of the `sandpit.workspaces.fs.WorkspaceFS` tests on a real filesystem.

Every test runs once per resolver (openat2 and the walk), which must behave
identically. Link attacks are in ../symlinks/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandpit.errors import SandpitError
from sandpit.workspaces._resolve import Resolver
from sandpit.workspaces.fs import WorkspaceFS


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def ws(root: Path, resolver: Resolver) -> WorkspaceFS:
    fs = WorkspaceFS(root, resolver=resolver)
    fs.ensure_root()
    return fs


def assert_sentence(error: SandpitError) -> None:
    """Starts with a capital or a quoted path, ends with a full stop."""
    assert error.detail[:1].isupper() or error.detail.startswith("'"), error.detail
    assert error.detail.endswith("."), error.detail


def paths(ws: WorkspaceFS, include_dirs: bool = False) -> list[str]:
    return [entry.path for entry in ws.list(include_dirs=include_dirs)]
