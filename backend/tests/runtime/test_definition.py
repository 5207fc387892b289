"""The definition's content hash and its parser."""

# ruff: noqa: S103 - the tests make permissive modes on purpose, to see them removed

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from sandpit.runtime.definition import (
    BUILDER_VERSION,
    DefinitionError,
    definition_files,
    definition_hash,
    load_definition,
)


def test_hash_is_16_hex_digits_and_stable(definition_dir: Path) -> None:
    first = definition_hash(definition_dir)
    assert re.fullmatch(r"[0-9a-f]{16}", first)
    assert definition_hash(definition_dir) == first


def test_hash_does_not_depend_on_where_the_definition_lives(
    definition_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "runtime"
    shutil.copytree(definition_dir, elsewhere)
    assert definition_hash(elsewhere) == definition_hash(definition_dir)


@pytest.mark.parametrize(
    "name", ["image.toml", "requirements.txt", "smoke_test.py", "rootfs/etc/passwd"]
)
def test_hash_changes_when_a_definition_file_changes(definition_dir: Path, name: str) -> None:
    before = definition_hash(definition_dir)
    with (definition_dir / name).open("a") as file:
        file.write("\n# changed\n")
    assert definition_hash(definition_dir) != before


def test_hash_changes_when_a_file_is_added_or_renamed(definition_dir: Path) -> None:
    before = definition_hash(definition_dir)
    (definition_dir / "rootfs/etc/motd").write_text("hello\n")
    added = definition_hash(definition_dir)
    assert added != before
    (definition_dir / "rootfs/etc/motd").rename(definition_dir / "rootfs/etc/issue")
    assert definition_hash(definition_dir) not in (before, added)


def test_hash_changes_with_the_executable_bit(definition_dir: Path) -> None:
    before = definition_hash(definition_dir)
    os.chmod(definition_dir / "rootfs/etc/hosts", 0o755)
    assert definition_hash(definition_dir) != before


def test_hash_changes_with_the_builder_version(definition_dir: Path) -> None:
    assert definition_hash(definition_dir, BUILDER_VERSION + 1) != definition_hash(definition_dir)


def test_hash_ignores_documentation_hidden_files_and_bytecode(definition_dir: Path) -> None:
    before = definition_hash(definition_dir)
    (definition_dir / "README.md").write_text("notes that do not change the image\n")
    (definition_dir / ".smoke_test.py.swp").write_text("editor state\n")
    (definition_dir / "__pycache__").mkdir()
    (definition_dir / "__pycache__/smoke_test.cpython-311.pyc").write_bytes(b"\0")
    assert definition_hash(definition_dir) == before


def test_hash_frames_paths_and_contents(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "a").write_text("bc")
    (two / "ab").write_text("c")
    assert definition_hash(one) != definition_hash(two)


def test_definition_files_are_sorted_and_refuse_symlinks(definition_dir: Path) -> None:
    names = [str(relative) for relative, _ in definition_files(definition_dir)]
    assert names == sorted(names)
    assert "image.toml" in names
    assert "README.md" not in names
    (definition_dir / "rootfs/etc/link").symlink_to("/etc/shadow")
    with pytest.raises(DefinitionError, match="not a regular file"):
        definition_hash(definition_dir)


def test_the_repository_definition_parses(definition_dir: Path) -> None:
    definition = load_definition(definition_dir)
    assert definition.suite == "bookworm"
    assert "python3" in definition.packages
    assert definition.interpreter == "/usr/bin/python3"
    assert "app" in definition.mount_points
    assert definition.env["LANG"] == "C.UTF-8"
    assert definition.requirements.is_file()
    pins = definition.requirements.read_text()
    for package in ("numpy==2.", "pandas==", "scipy==", "matplotlib==", "pip=="):
        assert package in pins
    assert pins.count("--hash=sha256:") == pins.count("==")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"less",', '"less; rm -rf /",', "not a Debian package name"),
        ('"dev/*",', '"/dev/*",', "relative to the image root"),
        ('"etc/apt",', '"../etc/apt",', "relative to the image root"),
        ('interpreter = "/usr/bin/python3"', 'interpreter = "python3"', "absolute path"),
        ('LANG = "C.UTF-8"', 'lang = "C.UTF-8"', r"bad \[env\] entry"),
        ('suite = "bookworm"', "suite = 12", "suite must be a non-empty string"),
    ],
)
def test_malformed_definitions_are_refused(
    definition_dir: Path, old: str, new: str, message: str
) -> None:
    path = definition_dir / "image.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DefinitionError, match=message):
        load_definition(definition_dir)


def test_a_missing_smoke_test_is_refused(definition_dir: Path) -> None:
    (definition_dir / "smoke_test.py").unlink()
    with pytest.raises(DefinitionError, match=r"smoke_test\.py is missing"):
        load_definition(definition_dir)
