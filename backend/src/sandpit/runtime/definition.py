"""The runtime image definition: the files in `runtime/` and their content hash.

A definition directory holds `image.toml` (Debian packages, paths, environment),
`requirements.txt` (Python packages pinned with hashes), `smoke_test.py` (run in
the finished image) and `rootfs/` (files copied over the installed tree). Its
hash names the built image, so a change to any of those files, or to
`BUILDER_VERSION`, leads to a new build.
"""

from __future__ import annotations

import hashlib
import re
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

# Bump when the builder changes what it produces from the same definition.
BUILDER_VERSION = 1

HASH_LENGTH = 16

_PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class DefinitionError(Exception):
    """The definition directory is missing, incomplete or malformed."""


@dataclass(frozen=True)
class Definition:
    """A parsed definition directory. Paths inside the image are absolute strings."""

    root: Path
    suite: str
    variant: str
    sources: tuple[str, ...]
    hook_dirs: tuple[str, ...]
    packages: tuple[str, ...]
    dpkg_path_exclude: tuple[str, ...]
    dpkg_path_include: tuple[str, ...]
    interpreter: str
    python_version: str
    glibc: str
    site_packages: str
    matplotlib_cache: str
    compile_paths: tuple[str, ...]
    remove: tuple[str, ...]
    mount_points: tuple[str, ...]
    env: Mapping[str, str]

    @property
    def requirements(self) -> Path:
        return self.root / "requirements.txt"

    @property
    def requirements_in(self) -> Path:
        return self.root / "requirements.in"

    @property
    def smoke_test(self) -> Path:
        return self.root / "smoke_test.py"

    @property
    def overlay(self) -> Path:
        return self.root / "rootfs"


def default_definition_dir() -> Path:
    """The `runtime/` directory of the source checkout this module lives in.

    Raises DefinitionError when the package is not run from a checkout; pass
    the directory explicitly then.
    """
    candidate = Path(__file__).resolve().parents[4] / "runtime"
    if not (candidate / "image.toml").is_file():
        raise DefinitionError(
            f"no runtime definition at {candidate}; pass the definition directory explicitly"
        )
    return candidate


def definition_files(root: Path) -> Iterator[tuple[PurePosixPath, Path]]:
    """Yield (relative path, path) of every file that makes up the definition, sorted.

    Documentation (`*.md`), hidden files and `__pycache__` are not part of it.
    Symlinks and other special files are refused: the definition is plain files.
    """
    entries: list[tuple[PurePosixPath, Path]] = []
    for path in root.rglob("*"):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        mode = path.lstat().st_mode
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            raise DefinitionError(f"{path} is not a regular file")
        if relative.suffix == ".md":
            continue
        entries.append((relative, path))
    yield from sorted(entries)


def definition_hash(root: Path, builder_version: int = BUILDER_VERSION) -> str:
    """The content hash that names the image built from `root` (hex, 16 characters).

    It covers each file's relative path, executable bit and content, framed so
    that no two different definitions hash alike, and the builder version.
    """
    digest = hashlib.sha256(f"sandpit-runtime-image\0{builder_version}\0".encode())
    for relative, path in definition_files(root):
        content = path.read_bytes()
        executable = "x" if path.stat().st_mode & 0o111 else "-"
        header = f"{relative}\0{executable}\0{len(content)}\0"
        digest.update(header.encode())
        digest.update(content)
    return digest.hexdigest()[:HASH_LENGTH]


def load_definition(root: Path) -> Definition:
    """Parse and validate `root/image.toml`; check the other files exist."""
    try:
        data = tomllib.loads((root / "image.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"cannot read {root / 'image.toml'}: {exc}") from exc
    for name in ("requirements.in", "smoke_test.py"):
        if not (root / name).is_file():
            raise DefinitionError(f"{root / name} is missing")
    debian = _table(data, "debian")
    python = _table(data, "python")
    files = _table(data, "files")
    env = _table(data, "env")
    packages = _strings(debian, "packages")
    for package in packages:
        if not _PACKAGE_NAME.match(package):
            raise DefinitionError(f"not a Debian package name: {package!r}")
    for source in _strings(debian, "sources"):
        if not source.startswith("deb ") or "\n" in source:
            raise DefinitionError(f"not a one-line deb source: {source!r}")
    for name, value in env.items():
        if not _ENV_NAME.match(name) or not isinstance(value, str):
            raise DefinitionError(f"bad [env] entry: {name!r}")
    return Definition(
        root=root,
        suite=_string(debian, "suite"),
        variant=_string(debian, "variant"),
        sources=_strings(debian, "sources"),
        hook_dirs=_strings(debian, "hook_dirs"),
        packages=packages,
        dpkg_path_exclude=_strings(debian, "dpkg_path_exclude"),
        dpkg_path_include=_strings(debian, "dpkg_path_include"),
        interpreter=_image_path(python, "interpreter"),
        python_version=_string(python, "version"),
        glibc=_string(python, "glibc"),
        site_packages=_image_path(python, "site_packages"),
        matplotlib_cache=_image_path(python, "matplotlib_cache"),
        compile_paths=tuple(_absolute(p) for p in _strings(python, "compile")),
        remove=tuple(_relative_glob(p) for p in _strings(files, "remove")),
        mount_points=tuple(_relative_glob(p) for p in _strings(files, "mount_points")),
        env=dict(env),
    )


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise DefinitionError(f"image.toml needs a [{key}] table")
    return value


def _string(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise DefinitionError(f"image.toml: {key} must be a non-empty string")
    return value


def _strings(table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise DefinitionError(f"image.toml: {key} must be a list of strings")
    return tuple(value)


def _absolute(path: str) -> str:
    pure = PurePosixPath(path)
    if not pure.is_absolute() or ".." in pure.parts:
        raise DefinitionError(f"image.toml: {path!r} must be an absolute path without '..'")
    return path


def _image_path(table: Mapping[str, Any], key: str) -> str:
    return _absolute(_string(table, key))


def _relative_glob(pattern: str) -> str:
    pure = PurePosixPath(pattern)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise DefinitionError(f"image.toml: {pattern!r} must be relative to the image root")
    return pattern
