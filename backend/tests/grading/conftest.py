"""Fixtures for the grading tests: real backends from the sandbox suite's harnesses.

`forgeries/` holds submissions (conftest.py files among them) that must
never be collected or loaded by this test pass.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sandpit.sandbox.base import SandboxBackend
from tests.sandbox import conftest as shared

collect_ignore = ["forgeries"]

image_rootfs = shared.image_rootfs
backend_state_dir = shared.backend_state_dir

FORGERIES = Path(__file__).with_name("forgeries")


@pytest.fixture(scope="module", params=sorted(shared.HARNESSES))
def harness(
    request: pytest.FixtureRequest, image_rootfs: Path, backend_state_dir: Path
) -> Iterator[shared.Harness]:
    """One backend's harness (as the sandbox suite's), shared by a module's tests.

    Afterwards nothing of its sandboxes may remain on the host. A test that
    needs one backend only takes `bubblewrap_only`.
    """
    made = shared.HARNESSES[request.param](image_rootfs, backend_state_dir)
    try:
        yield made
        shared.wait_for(lambda: not made.leftovers(), 10)
        left = made.leftovers()
    finally:
        made.close()
    assert not left, f"left on the host after the module: {left}"


# For the tests that check the grader, not the backend: run once, on bubblewrap.
bubblewrap_only = pytest.mark.parametrize("harness", ["bubblewrap"], indirect=True)


@pytest.fixture
async def backend(harness: shared.Harness) -> AsyncIterator[SandboxBackend]:
    """A backend object, closed (every sandbox it started stopped) afterwards."""
    made = harness.make()
    yield made
    await made.close()


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory for a submission's files and the checks' work directory."""
    made = Path(tempfile.mkdtemp(prefix="sandpit-test-grading-"))
    made.chmod(0o711)  # searchable by a sandbox's host uid, as the data directory is
    yield made
    shutil.rmtree(made, ignore_errors=True)


def write_files(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(text)
    return directory
