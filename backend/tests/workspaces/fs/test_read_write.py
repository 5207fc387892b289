"""Reading and writing files with `WorkspaceFS`.

A write creates the parent folders and replaces a file atomically: a
writer killed at any moment leaves the old or the new content, never a mix,
and stale temporary files are swept. A read refuses a folder, a special
file (without hanging on a FIFO) and a file the server's user may not open,
with our errors. Every operation refuses an invalid path.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from sandpit.errors import (
    BadRequest,
    Conflict,
    InvalidPath,
    NotFound,
    SandpitError,
)
from sandpit.workspaces._resolve import Resolver
from sandpit.workspaces._tree import STALE_TEMP_SECONDS
from sandpit.workspaces.fs import TEMP_PREFIX, WorkspaceFS
from tests.workspaces.fs.conftest import assert_sentence, paths

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
    # A conflict with what is there (409, as writing a file over a folder),
    # not a malformed request: the path itself is fine.
    ws.mkdir("src")
    with pytest.raises(Conflict) as caught:
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
