"""Checks of a real built image, when one exists; this never builds one.

The data directory is `PYTHON_SANDBOX_PATH` (default: `data/` in the checkout),
as for the server, and the image is the current definition's (the one `make
image` builds; `make test` builds it first). Without it these fail, never skip.
"""

# ruff: noqa: S103 - the tests make permissive modes on purpose, to see them removed

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandpit.runtime import plan
from sandpit.runtime.definition import default_definition_dir, load_definition
from sandpit.runtime.image import RuntimeImage, find_image
from sandpit.runtime.tree import lockdown_violations

DATA_DIR = Path(os.environ.get("PYTHON_SANDBOX_PATH", default_definition_dir().parent / "data"))


@pytest.fixture(scope="module")
def image() -> RuntimeImage:
    found = find_image(DATA_DIR)
    if found is None:
        pytest.fail(f"no runtime image of the current definition in {DATA_DIR}: run `make image`")
    return found


@pytest.fixture
def readable_dir() -> Iterator[Path]:
    """A directory the unprivileged smoke-test user can read (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="sandpit-image-test-"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def test_the_tree_is_root_owned_and_writable_only_by_root(image: RuntimeImage) -> None:
    assert lockdown_violations(image.rootfs) == []


def test_nothing_of_the_build_host_is_left(image: RuntimeImage) -> None:
    rootfs = image.rootfs
    definition = load_definition(default_definition_dir())
    for name in ("etc/resolv.conf", "etc/apt", "etc/shadow", "var/lib/apt"):
        assert not os.path.lexists(rootfs / name), name
    for name in ("etc/passwd", "etc/group", "etc/hosts", "etc/hostname", "etc/pip.conf"):
        assert (rootfs / name).read_bytes() == (definition.overlay / name).read_bytes()
    for name in ("app", "tmp", "dev", "root/.cache"):
        path = rootfs / name
        assert not path.exists() or list(path.iterdir()) == [], name
    assert not (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").exists()


def test_the_record_lists_current_packages(image: RuntimeImage) -> None:
    record = image.metadata()
    assert record["hash"] == image.image_hash
    assert record["python"].startswith("3.11.")
    packages = record["python_packages"]
    assert packages["numpy"].startswith("2.")
    for name in ("pandas", "scipy", "matplotlib", "pip"):
        assert name in packages
    assert (image.rootfs / record["matplotlib_font_cache"].lstrip("/")).is_file()


@pytest.mark.slow
def test_the_smoke_test_passes_in_bubblewrap(image: RuntimeImage, readable_dir: Path) -> None:
    assert shutil.which("bwrap") is not None, "bubblewrap is not installed: `make setup-test`"
    definition = load_definition(default_definition_dir())
    smoke_test = readable_dir / "smoke_test.py"
    shutil.copyfile(definition.smoke_test, smoke_test)
    os.chmod(smoke_test, 0o644)
    result = subprocess.run(
        plan.smoke_test_argv(definition, image.rootfs, smoke_test),
        env=plan.host_environment({}),
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["python_packages"] == image.metadata()["python_packages"]
