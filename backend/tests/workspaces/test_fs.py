"""Tests for `sandpit.workspaces.fs.WorkspaceFS` on a real filesystem.

Every test runs once per resolver (openat2 and the walk), which must behave
identically. Link attacks are in test_symlinks.py.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandpit.errors import (
    BadRequest,
    Conflict,
    InvalidPath,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    SandpitError,
    UnsupportedMediaType,
)
from sandpit.workspaces import _syscalls
from sandpit.workspaces._resolve import Openat2Resolver, Resolver, WalkResolver
from sandpit.workspaces._tree import STALE_TEMP_SECONDS
from sandpit.workspaces.fs import MIB, TEMP_PREFIX, Entry, Usage, WorkspaceFS


@pytest.fixture(params=["openat2", "walk"])
def resolver(request: pytest.FixtureRequest) -> Resolver:
    if request.param == "walk":
        return WalkResolver()
    if not _syscalls.openat2_supported():
        pytest.skip("openat2 is not available on this kernel")
    return Openat2Resolver()


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


# -- write and read ----------------------------------------------------------


def test_write_then_read_round_trip(ws: WorkspaceFS, root: Path) -> None:
    assert ws.write("hello.py", b"print('hi')\n") is True
    assert ws.read("hello.py") == b"print('hi')\n"
    assert (root / "hello.py").read_bytes() == b"print('hi')\n"


def test_write_empty_and_unicode_text(ws: WorkspaceFS) -> None:
    ws.write("empty.txt", b"")
    ws.write("données.txt", "ünïcödé ✓ 🐍\n".encode())
    assert ws.read("empty.txt") == b""
    assert ws.read("donne\u0301es.txt") == "ünïcödé ✓ 🐍\n".encode()  # NFD names the same file


def test_write_creates_parent_folders(ws: WorkspaceFS, root: Path) -> None:
    assert ws.write("a/b/c/d.txt", b"deep") is True
    assert (root / "a" / "b" / "c" / "d.txt").read_bytes() == b"deep"
    assert paths(ws) == ["a/b/c/d.txt"]
    assert paths(ws, include_dirs=True) == ["a", "a/b", "a/b/c", "a/b/c/d.txt"]


def test_overwrite_returns_false_and_replaces(ws: WorkspaceFS) -> None:
    assert ws.write("x.txt", b"first version, longer") is True
    assert ws.write("x.txt", b"second") is False
    assert ws.read("x.txt") == b"second"


def test_overwrite_keeps_permission_bits_but_not_setuid(ws: WorkspaceFS, root: Path) -> None:
    ws.write("run.sh", b"echo hi\n")
    os.chmod(root / "run.sh", 0o4755)  # noqa: S103 -- checking it is dropped
    ws.write("run.sh", b"echo bye\n")
    assert stat.S_IMODE(os.stat(root / "run.sh").st_mode) == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_new_entries_take_the_owner_of_the_root(ws: WorkspaceFS, root: Path) -> None:
    os.chown(root, 1000, 1000)
    ws.write("sub/new.txt", b"x")
    ws.mkdir("folder")
    for name in ("sub", "sub/new.txt", "folder"):
        st = os.stat(root / name)
        assert (st.st_uid, st.st_gid) == (1000, 1000), name


def test_read_missing_file(ws: WorkspaceFS) -> None:
    with pytest.raises(NotFound) as caught:
        ws.read("nope.txt")
    assert "'nope.txt' does not exist" in caught.value.detail
    with pytest.raises(NotFound):
        ws.read("no/such/folder.txt")


def test_read_a_folder_is_refused(ws: WorkspaceFS) -> None:
    ws.mkdir("src")
    with pytest.raises(BadRequest) as caught:
        ws.read("src")
    assert "is a folder" in caught.value.detail


def test_a_file_where_a_folder_should_be(ws: WorkspaceFS) -> None:
    ws.write("file.txt", b"x")
    with pytest.raises(NotFound) as caught:
        ws.read("file.txt/inner")
    assert "'file.txt' is a file, not a folder" in caught.value.detail
    with pytest.raises(Conflict):
        ws.write("file.txt/inner", b"x")
    with pytest.raises(Conflict):
        ws.mkdir("file.txt/inner")


def test_write_where_a_folder_is(ws: WorkspaceFS) -> None:
    ws.mkdir("src")
    with pytest.raises(Conflict) as caught:
        ws.write("src", b"x")
    assert_sentence(caught.value)


def test_invalid_paths_are_refused_by_every_operation(ws: WorkspaceFS) -> None:
    for bad in ("../x", "/abs.txt", "a\\b", "a\x00b", ""):
        with pytest.raises(InvalidPath):
            ws.read(bad)
        with pytest.raises(InvalidPath):
            ws.write(bad, b"x")
        with pytest.raises(InvalidPath):
            ws.delete(bad)
        with pytest.raises(InvalidPath):
            ws.mkdir(bad)
        with pytest.raises(InvalidPath):
            ws.move("a", bad)


# -- limits ------------------------------------------------------------------


def test_exactly_the_file_limit_is_accepted(ws: WorkspaceFS) -> None:
    ws.write("big.txt", b"a" * MIB)
    assert len(ws.read("big.txt")) == MIB


def test_one_byte_over_the_file_limit_is_refused(ws: WorkspaceFS, root: Path) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        ws.write("big.txt", b"a" * (MIB + 1))
    assert "larger than the 1 MiB limit" in caught.value.detail
    assert caught.value.status_code == 413
    assert not (root / "big.txt").exists()


def test_reading_is_bounded(ws: WorkspaceFS, root: Path) -> None:
    (root / "huge.log").write_bytes(b"x" * (3 * MIB))  # written by sandbox code
    with pytest.raises(PayloadTooLarge) as caught:
        ws.read("huge.log")
    assert_sentence(caught.value)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe\x00\x01", "NUL"),
        (b"\x89PNG\r\n\x1a\n", "not valid UTF-8"),
        (b"caf\xe9", "not valid UTF-8"),
        (b"text with a NUL \x00 inside", "NUL"),
    ],
)
def test_binary_content_is_refused(ws: WorkspaceFS, root: Path, data: bytes, reason: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        ws.write("blob.bin", data)
    assert caught.value.status_code == 415
    assert "Only text files" in caught.value.detail
    assert reason in caught.value.detail
    assert not (root / "blob.bin").exists()


def test_quota_on_total_bytes(root: Path, resolver: Resolver) -> None:
    ws = WorkspaceFS(root, max_total_bytes=100, resolver=resolver)
    ws.ensure_root()
    ws.write("a.txt", b"a" * 60)
    with pytest.raises(QuotaExceeded) as caught:
        ws.write("b.txt", b"b" * 41)
    assert "100 bytes storage limit" in caught.value.detail
    assert caught.value.status_code == 413
    ws.write("b.txt", b"b" * 40)  # exactly at the limit
    ws.write("a.txt", b"a" * 50)  # replacing counts the old size out
    assert ws.usage() == Usage(bytes=90, files=2)


def test_shrinking_is_allowed_when_over_quota(root: Path, resolver: Resolver) -> None:
    ws = WorkspaceFS(root, max_total_bytes=100, resolver=resolver)
    ws.ensure_root()
    (root / "made-by-a-program.dat").write_bytes(b"z" * 500)
    with pytest.raises(QuotaExceeded):
        ws.write("new.txt", b"x")
    ws.write("made-by-a-program.dat", b"small")
    assert ws.usage().bytes == 5


def test_quota_on_file_count(root: Path, resolver: Resolver) -> None:
    ws = WorkspaceFS(root, max_files=3, resolver=resolver)
    ws.ensure_root()
    for name in ("1.txt", "2.txt", "sub/3.txt"):
        ws.write(name, b"x")
    with pytest.raises(QuotaExceeded) as caught:
        ws.write("4.txt", b"x")
    assert "limit is 3" in caught.value.detail
    assert ws.write("1.txt", b"replacing is fine") is False
    assert ws.usage() == Usage(bytes=len(b"replacing is fine") + 2, files=3)


def test_walks_are_bounded(root: Path, resolver: Resolver) -> None:
    ws = WorkspaceFS(root, max_files=5, resolver=resolver)  # at most 10 entries walked
    ws.ensure_root()
    for i in range(30):  # a program in the sandbox made many files
        (root / f"f{i}").write_bytes(b"")
    with pytest.raises(PayloadTooLarge) as caught:
        ws.list()
    assert "more than 10 files and folders" in caught.value.detail
    with pytest.raises(QuotaExceeded):
        ws.usage()
    with pytest.raises(QuotaExceeded):
        ws.write("one-more.txt", b"x")
    ws.delete("f0")  # deleting still works


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


def test_list_leaves_out_names_the_api_cannot_address(ws: WorkspaceFS, root: Path) -> None:
    ws.write("ok.txt", b"fine")
    (root / "new\nline.txt").write_bytes(b"1")
    (root / "e\u0301.txt").write_bytes(b"22")  # not NFC: the API could not name it
    os.mkdir(os.fsencode(root) + b"/bad\xffdir")  # not UTF-8
    with open(os.fsencode(root) + b"/bad\xffdir/inner.txt", "wb") as handle:
        handle.write(b"333")
    (root / f"{TEMP_PREFIX}0123").write_bytes(b"4444")
    assert paths(ws, include_dirs=True) == ["ok.txt"]
    # They still count towards the quota.
    assert ws.usage() == Usage(bytes=4 + 1 + 2 + 3 + 4, files=5)


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


# -- temporary files ---------------------------------------------------------


def test_reserved_names_are_refused(ws: WorkspaceFS) -> None:
    with pytest.raises(InvalidPath) as caught:
        ws.write(f"sub/{TEMP_PREFIX}x", b"x")
    assert "reserved" in caught.value.detail


def test_stale_temporary_files_are_swept_and_fresh_ones_kept(ws: WorkspaceFS, root: Path) -> None:
    (root / "sub").mkdir()
    stale = root / "sub" / f"{TEMP_PREFIX}stale"
    fresh = root / f"{TEMP_PREFIX}fresh"
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"a write in progress")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    ws.write("x.txt", b"x")
    assert not stale.exists()
    assert fresh.exists()
    assert paths(ws) == ["x.txt"]


def test_write_is_atomic_under_sigkill(ws: WorkspaceFS) -> None:
    """Kill a process mid-write, many times: the file is always wholly old or new."""
    old, new = b"A" * 200_000 + b"\n", b"B" * 300_000 + b"\n"
    ws.write("data.txt", old)
    for attempt in range(8):
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child writes until killed
            code = 1
            try:
                os.close(ready_r)
                for count in range(1_000_000):
                    ws.write("data.txt", new if count % 2 == 0 else old)
                    if count == 0:
                        os.write(ready_w, b"!")
            finally:
                os._exit(code)
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"!"  # at least one write finished
        os.close(ready_r)
        time.sleep(0.002 * attempt)  # land at different points of the cycle
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert ws.read("data.txt") in (old, new)
    assert paths(ws) == ["data.txt"]  # leftover temporary files are hidden


# -- special files -----------------------------------------------------------


def test_a_fifo_is_refused_without_hanging(ws: WorkspaceFS, root: Path) -> None:
    os.mkfifo(root / "pipe")  # nobody writes to it: an open() that blocks would hang
    with pytest.raises(BadRequest) as caught:
        ws.read("pipe")
    assert "special file" in caught.value.detail
    assert ws.write("pipe", b"replaced") is False  # replaced by name, never opened
    assert ws.read("pipe") == b"replaced"


def test_a_socket_is_refused(ws: WorkspaceFS, root: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(root / "sock"))
        with pytest.raises(BadRequest):
            ws.read("sock")
        ws.delete("sock")


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


# -- permissions ---------------------------------------------------------------


def _as_nobody(tmp_path: Path, resolver: Resolver) -> dict[str, object]:
    """Run some operations on tmp_path/ws in a child process as uid/gid 65534.

    The child changes into tmp_path first, so it needs no access to the
    folders above it. Returns what it reports: the listing, and per call
    "ok" or the name of the domain error raised.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(tmp_path)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            ws = WorkspaceFS(Path("ws"), resolver=resolver)
            report: dict[str, object] = {"list": paths(ws, include_dirs=True)}
            calls: dict[str, Callable[[], object]] = {
                "read_secret": lambda: ws.read("secret.txt"),
                "read_locked": lambda: ws.read("locked/inner.txt"),
                "write_locked": lambda: ws.write("locked/new.txt", b"x"),
                "delete_locked": lambda: ws.delete("locked", recursive=True),
                "read_ok": lambda: ws.read("ok.txt"),
            }
            for name, call in calls.items():
                try:
                    call()
                    report[name] = "ok"
                except SandpitError as exc:
                    report[name] = type(exc).__name__
            os.write(write_end, json.dumps(report).encode())
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        output = reader.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    result: dict[str, object] = json.loads(output)
    return result


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_permissions_set_by_the_owner_give_our_errors(tmp_path: Path, resolver: Resolver) -> None:
    """A server without root meets files its user made unreadable: 400, not a crash."""
    root = tmp_path / "ws"
    ws = WorkspaceFS(root, resolver=resolver)
    ws.ensure_root()
    for name in ("locked/inner.txt", "secret.txt", "ok.txt"):
        ws.write(name, b"text")
    for path in (root, *root.rglob("*")):
        os.chown(path, 65534, 65534)
    os.chmod(root / "locked", 0)
    os.chmod(root / "secret.txt", 0)
    os.chmod(tmp_path, 0o711)  # noqa: S103 -- the child opens "ws" from inside tmp_path
    assert _as_nobody(tmp_path, resolver) == {
        "list": ["locked", "ok.txt", "secret.txt"],
        "read_secret": "BadRequest",
        "read_locked": "BadRequest",
        "write_locked": "BadRequest",
        "delete_locked": "BadRequest",
        "read_ok": "ok",
    }


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
