"""What the `WorkspaceFS` tests (fs/) and the link tests (symlinks/) share.

A test that takes `resolver` runs once per resolver (openat2 and the walk),
which must behave identically.
"""

from __future__ import annotations

import pytest

from sandpit.workspaces import _syscalls
from sandpit.workspaces._resolve import Openat2Resolver, Resolver, WalkResolver


@pytest.fixture(params=["openat2", "walk"])
def resolver(request: pytest.FixtureRequest) -> Resolver:
    if request.param == "walk":
        return WalkResolver()
    if not _syscalls.openat2_supported():
        pytest.skip("openat2 is not available on this kernel")
    return Openat2Resolver()
