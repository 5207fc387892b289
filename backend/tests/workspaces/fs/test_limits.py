"""The limits of `WorkspaceFS`: file size, text only, total bytes, file count, walk length.

A write over a limit is refused with our error (413 or 415) and leaves
nothing behind; a read or a walk over one is refused too. What sandbox code
made past a limit can still be shrunk or deleted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandpit.errors import (
    PayloadTooLarge,
    QuotaExceeded,
    UnsupportedMediaType,
)
from sandpit.workspaces._resolve import Resolver
from sandpit.workspaces.fs import MIB, Usage, WorkspaceFS
from tests.workspaces.fs.conftest import assert_sentence

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
