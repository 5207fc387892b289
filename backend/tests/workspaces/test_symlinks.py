"""Links planted by sandbox code must never be followed (security invariant 4).

Each test plants links inside a workspace -- to /etc/passwd, to /, to "..",
to a sibling workspace, to a file in it, dangling ones, links as intermediate
folders, and a hard link to a file outside -- and runs one operation against
them with each resolver. Afterwards everything outside the workspace must be
exactly as it was, and the operation must have refused with our error or
acted on the link itself (see the `sandpit.workspaces.fs` docstring).

Links to the real / and /etc/passwd are planted only for operations that
cannot change anything (read, list, usage). Tests often run as root, and a
regression that followed links in write, move, mkdir or delete would then
destroy the host, so those operations meet the same links aimed at a stand-in
root (``fakeroot/etc/passwd``) under tmp_path instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from sandpit.errors import BadRequest, Conflict, InvalidPath, SandpitError
from sandpit.workspaces import _io, _syscalls, _tree
from sandpit.workspaces._resolve import (
    DIR_FLAGS,
    Openat2Resolver,
    ResolveError,
    Resolver,
    WalkResolver,
)
from sandpit.workspaces.fs import WorkspaceFS, WorkspaceRootError

SIBLING_SECRET = b"the other user's secret\n"
OUTSIDE = b"a file outside every workspace\n"
FAKE_PASSWD = b"root:x:0:0:root:/root:/bin/bash\n"


@pytest.fixture(params=["openat2", "walk"])
def resolver(request: pytest.FixtureRequest) -> Resolver:
    if request.param == "walk":
        return WalkResolver()
    if not _syscalls.openat2_supported():
        pytest.skip("openat2 is not available on this kernel")
    return Openat2Resolver()


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


# -- races: a folder swapped for a link while we work ---------------------------


def _exchange(root: Path, a: str, b: str) -> None:
    """Atomically swap two names (renameat2 RENAME_EXCHANGE), as sandbox code could."""
    libc = ctypes.CDLL(None, use_errno=True)
    rename_exchange = 2
    if libc.renameat2(-100, f"{root}/{a}".encode(), -100, f"{root}/{b}".encode(), rename_exchange):
        raise OSError(ctypes.get_errno(), "renameat2")


def _operations_on_d(ws: WorkspaceFS, round_: int) -> list[Callable[[], object]]:
    return [
        lambda: ws.write(f"d/new-{round_}.txt", b"x"),
        lambda: ws.read("d/secret.txt"),
        lambda: ws.mkdir(f"d/dir-{round_}"),
        lambda: ws.move(f"d/new-{round_}.txt", "moved.txt", overwrite=True),
        lambda: ws.delete("d/secret.txt"),
        lambda: ws.delete(f"d/dir-{round_}", recursive=True),
        ws.list,
    ]


def test_a_folder_swapped_for_a_link_mid_operation(ws: WorkspaceFS, planted: Planted) -> None:
    """A thread keeps swapping "d" between a real folder and a link to the sibling.

    Whatever interleaving happens, no operation may reach the sibling: it
    either works inside the workspace or refuses with our error.
    """
    (planted.root / "d").mkdir()
    (planted.root / "d" / "secret.txt").write_bytes(b"inside copy\n")
    os.symlink(planted.sibling, planted.root / "swap")
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            _exchange(planted.root, "d", "swap")

    thread = threading.Thread(target=swapper)
    thread.start()
    try:
        for round_ in range(150):
            for operation in _operations_on_d(ws, round_):
                try:
                    result = operation()
                except SandpitError:
                    continue
                assert result != SIBLING_SECRET
            # Refill through the API: a plain write_bytes("d/secret.txt") here
            # would itself follow the link whenever "d" is swapped.
            with contextlib.suppress(SandpitError):
                ws.write("d/secret.txt", b"inside copy\n")
    finally:
        stop.set()
        thread.join()
    planted.assert_outside_untouched()


def test_a_file_swapped_for_a_link_or_a_fifo_while_it_is_read(
    ws: WorkspaceFS, planted: Planted
) -> None:
    """The last name changes kind between our checks and the open: still never followed.

    A FIFO must not hang the read (O_NONBLOCK), a link must not be followed
    (O_NOFOLLOW), and whatever was opened is checked again with fstat.
    """
    (planted.root / "f.txt").write_bytes(b"inside\n")
    os.symlink(planted.sibling / "secret.txt", planted.root / "swap_link")
    os.mkfifo(planted.root / "swap_fifo")
    stop = threading.Event()

    def swapper() -> None:
        while not stop.is_set():
            _exchange(planted.root, "f.txt", "swap_link")
            _exchange(planted.root, "f.txt", "swap_fifo")

    thread = threading.Thread(target=swapper)
    thread.start()
    outcomes: set[str] = set()
    try:
        for _ in range(3000):
            try:
                data = ws.read("f.txt")
            except SandpitError as exc:
                outcomes.add(type(exc).__name__)
                continue
            assert data == b"inside\n"
            outcomes.add("read")
    finally:
        stop.set()
        thread.join()
    assert "read" in outcomes
    planted.assert_outside_untouched()


# -- races made certain: the swap happens exactly between our check and our use --


@pytest.mark.parametrize("swap_to", ["link", "fifo", "hard_link"])
def test_read_rechecks_what_it_opened(
    ws: WorkspaceFS, planted: Planted, monkeypatch: pytest.MonkeyPatch, swap_to: str
) -> None:
    """lstat sees a plain file; by the time we open it, it is something else.

    The fault is injected after the real lstat, on the real filesystem: a link
    must not be followed (O_NOFOLLOW), a FIFO must not block (O_NONBLOCK), and
    a hard link must be caught by the fstat of what was actually opened.
    """
    victim = planted.root / "f.txt"
    victim.write_bytes(b"inside\n")
    real_lstat = _io.lstat

    def lstat_then_swap(dir_fd: int, name: str) -> os.stat_result | None:
        result = real_lstat(dir_fd, name)
        if name == "f.txt":
            replacement = planted.root / "replacement"
            if swap_to == "link":
                os.symlink(planted.sibling / "secret.txt", replacement)
            elif swap_to == "fifo":
                os.mkfifo(replacement)
            else:
                os.link(planted.sibling / "secret.txt", replacement)
            os.rename(replacement, victim)
        return result

    monkeypatch.setattr(_io, "lstat", lstat_then_swap)
    with pytest.raises(BadRequest):
        ws.read("f.txt")
    if swap_to == "hard_link":
        os.unlink(victim)  # the second name of the sibling's file
    planted.assert_outside_untouched()


def test_recursive_delete_notices_a_folder_moved_away_under_it(
    ws: WorkspaceFS, planted: Planted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While we empty t/a (or t/z), a program moves it to keep/. Going back up
    through ".." would land in keep/, where t's other folder names also exist;
    the identity check must send us back to t instead."""
    for name in ("a", "z"):
        (planted.root / "t" / name).mkdir(parents=True)
        (planted.root / "t" / name / "junk.txt").write_bytes(b"junk\n")
        (planted.root / "keep" / name).mkdir(parents=True)
        (planted.root / "keep" / name / "precious.txt").write_bytes(b"precious\n")
    real_empty_folder = _tree._empty_folder
    moved: list[str] = []

    def empty_folder_after_moving_it(fd: int) -> list[str]:
        inode = os.fstat(fd).st_ino
        for name in ("a", "z"):
            path = planted.root / "t" / name
            if not moved and path.exists() and path.stat().st_ino == inode:
                os.rename(path, planted.root / "keep" / f"moved-{name}")
                moved.append(name)
        return real_empty_folder(fd)

    monkeypatch.setattr(_tree, "_empty_folder", empty_folder_after_moving_it)
    ws.delete("t", recursive=True)
    assert moved
    assert not (planted.root / "t").exists()
    for name in ("a", "z"):
        assert (planted.root / "keep" / name / "precious.txt").read_bytes() == b"precious\n"
    planted.assert_outside_untouched()
