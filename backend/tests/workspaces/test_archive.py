"""The zip export and the import's checks, on a real `WorkspaceFS` (issue 13 item 5)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from sandpit.errors import SandpitError
from sandpit.workspaces.archive import check_zip, export_paths, export_zip, unpack
from sandpit.workspaces.fs import WorkspaceFS
from tests.workspaces.data_samples import SAMPLES
from tests.workspaces.hostile_zips import HOSTILE

MiB = 1024 * 1024


def _fs(root: Path) -> WorkspaceFS:
    fs = WorkspaceFS(root, max_total_bytes=100 * MiB, max_files=2000)
    fs.ensure_root()
    return fs


def _tree(root: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_zip_is_refused_before_anything_is_written(name: str) -> None:
    build, status, word = HOSTILE[name]
    source = io.BytesIO(build())
    with pytest.raises(SandpitError) as refused:
        check_zip(source, max_files=2000, max_bytes=100 * MiB, max_ratio=100)
    assert refused.value.status_code == status
    assert word in refused.value.detail, refused.value.detail
    assert refused.value.detail.endswith(".")


def test_bomb_past_the_quota_even_at_a_low_ratio() -> None:
    """Sizes come from the data: 3 MiB of random-ish text against a 2 MiB quota."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("big.txt", os.urandom(3 * MiB).hex()[: 3 * MiB].encode())
    with pytest.raises(SandpitError, match="expands to more than 2 MiB") as refused:
        check_zip(buffer, max_files=10, max_bytes=2 * MiB, max_ratio=100)
    assert refused.value.status_code == 413


def test_export_then_import_is_byte_for_byte(tmp_path: Path) -> None:
    source = _fs(tmp_path / "a")
    source.write("main.py", b"print('hi')\n")
    source.write("pkg/mod.py", "x = 'é'\n".encode())
    source.mkdir("empty")
    big = os.urandom(3 * MiB)  # larger than the file API's 1 MiB: sandbox code wrote it
    (tmp_path / "a" / "pkg" / "noise.bin").write_bytes(big)
    for name, data in (entry for entry in SAMPLES.values()):
        (tmp_path / "a" / "data").mkdir(exist_ok=True)
        (tmp_path / "a" / "data" / name).write_bytes(data)
    (tmp_path / "a" / ".local" / "lib").mkdir(parents=True)
    (tmp_path / "a" / ".local" / "lib" / "pkg.py").write_bytes(b"installed = 1\n")
    os.symlink("/etc/passwd", tmp_path / "a" / "link")

    paths = export_paths(source, include_local=False)
    assert ".local/lib/pkg.py" not in paths
    assert "link" not in paths
    zipped = b"".join(export_zip(source, paths))

    target = _fs(tmp_path / "b")
    spool = io.BytesIO(zipped)
    plan = check_zip(spool, max_files=2000, max_bytes=100 * MiB, max_ratio=100)
    unpack(spool, plan, target)
    expected = {k: v for k, v in _tree(tmp_path / "a").items() if not k.startswith(".local")}
    expected.pop("link")
    assert _tree(tmp_path / "b") == expected

    with_local = b"".join(export_zip(source, export_paths(source, include_local=True)))
    assert ".local/lib/pkg.py" in zipfile.ZipFile(io.BytesIO(with_local)).namelist()


def test_export_streams_in_pieces(tmp_path: Path) -> None:
    fs = _fs(tmp_path / "a")
    for index in range(4):
        (tmp_path / "a" / f"f{index}.bin").write_bytes(os.urandom(MiB))
    pieces = list(export_zip(fs, export_paths(fs, include_local=False)))
    assert len(pieces) > 8  # handed out as it is made, not as one buffer
    assert max(len(piece) for piece in pieces) <= 256 * 1024
    assert all(pieces)


def test_import_replaces_a_planted_link_without_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep\n")
    fs = _fs(tmp_path / "ws")
    os.symlink(outside, tmp_path / "ws" / "notes.txt")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", b"from the zip\n")
    plan = check_zip(buffer, max_files=10, max_bytes=MiB, max_ratio=100)
    unpack(buffer, plan, fs)
    assert outside.read_bytes() == b"keep\n"
    assert not (tmp_path / "ws" / "notes.txt").is_symlink()
    assert (tmp_path / "ws" / "notes.txt").read_bytes() == b"from the zip\n"
