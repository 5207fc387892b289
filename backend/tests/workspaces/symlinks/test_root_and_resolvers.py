"""A workspace root that is a link, and the two resolvers themselves.

Every operation on a root that is a link, dangling or not, is refused with
`WorkspaceRootError` and touches nothing. Both resolvers stop at the first
bad name of a path and say why; the openat2 one relies on the kernel to
refuse links and escapes.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable

import pytest

from sandpit.workspaces import _syscalls
from sandpit.workspaces._resolve import DIR_FLAGS, ResolveError, Resolver
from sandpit.workspaces.fs import WorkspaceFS, WorkspaceRootError
from tests.workspaces.symlinks.conftest import (
    Planted,
)

# -- the root itself ---------------------------------------------------------


def test_a_root_that_is_a_link_is_refused(planted: Planted, resolver: Resolver) -> None:
    linked_root = planted.base / "linked-root"
    os.symlink(planted.sibling, linked_root)
    planted.before = planted.outside_state()
    ws = WorkspaceFS(linked_root, resolver=resolver)
    operations: list[Callable[[], object]] = [
        ws.ensure_root,
        ws.list,
        ws.usage,
        lambda: ws.read("secret.txt"),
        lambda: ws.write("new.txt", b"x"),
        lambda: ws.delete("secret.txt"),
        lambda: ws.move("secret.txt", "moved.txt"),
        lambda: ws.mkdir("newdir"),
    ]
    for operation in operations:
        with pytest.raises(WorkspaceRootError):
            operation()
    os.symlink(planted.base / "nowhere", planted.base / "dangling-root")
    with pytest.raises(WorkspaceRootError):
        WorkspaceFS(planted.base / "dangling-root", resolver=resolver).ensure_root()
    os.unlink(planted.base / "dangling-root")
    planted.assert_outside_untouched()
    assert not (planted.base / "nowhere").exists()


# -- the resolvers themselves -------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "depth", "reason"),
    [
        (("to_sibling",), 1, "link"),
        (("to_parent", "sibling"), 1, "link"),
        (("real", "inner_link"), 2, "link"),
        (("real", "inner_link", "sub"), 2, "link"),
        (("plain.txt",), 1, "not_dir"),
        (("real", "inside.txt", "x"), 2, "not_dir"),
        (("real", "missing", "x"), 2, "missing"),
        (("dangling_dir", "x"), 1, "link"),
    ],
)
def test_resolvers_stop_at_the_first_bad_name(
    planted: Planted, resolver: Resolver, parts: tuple[str, ...], depth: int, reason: str
) -> None:
    root_fd = os.open(planted.root, DIR_FLAGS)
    try:
        with pytest.raises(ResolveError) as caught:
            resolver.open_dir(root_fd, parts)
    finally:
        os.close(root_fd)
    assert (caught.value.depth, caught.value.reason) == (depth, reason)


@pytest.mark.skipif(not _syscalls.openat2_supported(), reason="needs openat2")
def test_the_kernel_refuses_links_and_escapes_in_openat2(planted: Planted) -> None:
    """The openat2 resolver relies on the kernel, not on the walk, to refuse links."""
    resolve = _syscalls.RESOLVE_BENEATH | _syscalls.RESOLVE_NO_SYMLINKS
    root_fd = os.open(planted.root, DIR_FLAGS)
    try:
        for path in ("to_sibling", "to_sibling/secret.txt", "real/inner_link/secret.txt"):
            # Without O_NOFOLLOW: the refusal comes from RESOLVE_NO_SYMLINKS.
            with pytest.raises(OSError, match=re.escape(os.strerror(errno.ELOOP))):
                _syscalls.openat2(root_fd, path, os.O_RDONLY | os.O_CLOEXEC, resolve)
        for path in ("..", "real/../..", "/etc/passwd"):
            with pytest.raises(OSError, match=re.escape(os.strerror(errno.EXDEV))):
                _syscalls.openat2(root_fd, path, os.O_RDONLY | os.O_CLOEXEC, resolve)
    finally:
        os.close(root_fd)
