"""Fixtures for the runtime image tests: definitions to hash, parse and build."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandpit.runtime.definition import Definition, default_definition_dir


@pytest.fixture
def definition_dir(tmp_path: Path) -> Path:
    """A private copy of the repository's runtime/ definition, free to modify."""
    copy = tmp_path / "runtime"
    shutil.copytree(default_definition_dir(), copy)
    return copy


def small_definition(root: Path) -> Definition:
    """A definition with one of everything, for exact command-line comparisons."""
    return Definition(
        root=root,
        suite="bookworm",
        variant="essential",
        sources=("deb http://deb.example/debian bookworm main",),
        hook_dirs=("/hooks/merged-usr",),
        packages=("python3", "less"),
        dpkg_path_exclude=("/usr/share/doc/*",),
        dpkg_path_include=("/usr/share/doc/*/copyright",),
        interpreter="/usr/bin/python3",
        python_version="3.11",
        glibc="2.36",
        site_packages="/usr/local/lib/python3.11/dist-packages",
        matplotlib_cache="/usr/local/share/sandpit/matplotlib",
        compile_paths=("/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3.11"),
        remove=("dev/*", "etc/resolv.conf"),
        mount_points=("app", "tmp"),
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
