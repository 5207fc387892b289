"""Fixtures for the sandbox backend contract (`test_contract.py`) and the exploit suite.

Everything here runs the real thing: the runtime image built by `make test`,
real cgroups under a random test root (``sandpit-test-<hex>``, never the
server's ``sandpit``), real host uids from a range the server does not use
(300000 and up; the server's default is 200000-209999).

Backends are made by a *harness* keyed by name (`HARNESSES`): it builds the
backend object and answers host-side questions the contract needs but the
`SandboxBackend` interface does not (which host processes belong to a
sandbox, which host uid owns what it writes, what is left over on the host).
Adding a backend means adding a harness class (like `bubblewrap_harness.py`
and `docker_harness.py`) and its name to `HARNESSES`; every test that takes
`backend`, `sandbox` or `sandboxes` then runs against it.

The exploit suite (`tests/exploits/`) imports these fixtures and helpers.

Helpers (defined in `processes.py`, importable from here):
- `run(sandbox, program, *args, stdin=..., timeout=...)` runs a process with
  pipes and returns a `Result`; on timeout it kills the process's group.
- `Started` is the same for a process left running (a server, a sleeper).
- `PtySession` drives a process on a PTY (`send`, `read_until`, `resize`).

The live cgroup tests (`test_cgroups.py`, `test_cgroups_v2.py`) share the
`children` fixture (see `live_cgroups.py`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

from sandpit.config import REPO_DIR
from sandpit.runtime.image import find_image
from sandpit.sandbox.base import Process, Sandbox, SandboxBackend, SandboxSpec
from sandpit.sandbox.limits import Limits
from tests.sandbox.bubblewrap_harness import BubblewrapHarness
from tests.sandbox.docker_harness import DockerHarness
from tests.sandbox.live_cgroups import Children
from tests.sandbox.processes import (
    OUTPUT_CAP,
    SANDBOX_ENV,
    PtySession,
    Result,
    Started,
    run,
    run_ok,
)

# What test_contract.py and the exploit suite import from here.
__all__ = [
    "OUTPUT_CAP",
    "SANDBOX_ENV",
    "Harness",
    "PtySession",
    "Result",
    "Sandboxes",
    "Started",
    "Workspaces",
    "data_dir",
    "host_pid_alive",
    "run",
    "run_ok",
    "spec_for",
    "wait_for",
]


# --- the runtime image ----------------------------------------------------------


def data_dir() -> Path:
    return Path(os.environ.get("PYTHON_SANDBOX_PATH", str(REPO_DIR / "data")))


@pytest.fixture(scope="session")
def image_rootfs() -> Path:
    """The built runtime image's root. Fails (never skips): `make test` builds it first."""
    if os.geteuid() != 0:
        pytest.fail("the sandbox tests run as root, as the server does (cgroups, host uids)")
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap (bwrap) is not installed; `make test` installs it")
    image = find_image(data_dir())
    if image is None:
        pytest.fail(
            f"no runtime image for the current definition under {data_dir()}/images: "
            "run `make test` (it builds the image first) or "
            "`python -m sandpit.runtime.image build --data-dir DIR`"
        )
    return image.rootfs


@pytest.fixture(scope="session")
def backend_state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One state directory per session, so the launcher is compiled once."""
    return tmp_path_factory.mktemp("sandbox-state")


# --- harnesses: one per backend ----------------------------------------------------


def host_pid_alive(pid: int) -> bool:
    """Whether host pid `pid` exists (pids are not reused that fast within one test)."""
    return Path(f"/proc/{pid}").exists()


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


class Harness(Protocol):
    """What the contract and the exploit suite need to know about a backend from the host side."""

    name: str

    def make(self) -> SandboxBackend:
        """A new backend object (a new "server"), sharing this harness's host resources."""
        ...

    def host_pids(self, sandbox: Sandbox) -> list[int]:
        """Host pids of every process of `sandbox`, from the host's records."""
        ...

    def host_pid(self, process: Process) -> int:
        """The host pid of one process started in a sandbox."""
        ...

    def host_uid(self, sandbox: Sandbox) -> int:
        """The host uid sandbox code runs as and that owns the files it writes."""
        ...

    def host_processes(self, sandbox: Sandbox) -> dict[int, str]:
        """Every host process (pid -> name) running as the sandbox's host uid."""
        ...

    def process_groups(self, sandbox: Sandbox) -> list[str]:
        """The groups of runs and terminals (`ExecRequest.group`) the host holds for `sandbox`."""
        ...

    def sandbox_exists_on_host(self, sandbox_id: str) -> bool:
        """Whether anything of sandbox `sandbox_id` (cgroup, container) exists on the host."""
        ...

    def spawn_server(self, workspace: Path, sandbox_id: str) -> subprocess.Popen[bytes]:
        """A separate server process that starts one sandbox and prints "ready"."""
        ...

    def leftovers(self) -> list[str]:
        """Everything of this harness's sandboxes still on the host, described."""
        ...

    # Where backends differ by design (the exploit suite asks):
    nosuid_mounts: bool
    """Whether every mount in a sandbox is nosuid (the engine cannot do it for Docker's)."""

    def expected_binds(self, sandbox: Sandbox, workspace: Path) -> dict[str, str]:
        """Mount point -> host source of every host path the backend mounts in `sandbox`."""
        ...

    def engine_files(self, sandbox: Sandbox) -> Path | None:
        """The host directory of files the container engine makes per sandbox (None: none)."""
        ...

    def close(self) -> None:
        """Remove every host resource the harness made."""
        ...


# name -> factory(image rootfs, state directory).
HARNESSES: dict[str, Callable[[Path, Path], Harness]] = {
    "bubblewrap": BubblewrapHarness,
    "docker": DockerHarness,
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(
    request: pytest.FixtureRequest, image_rootfs: Path, backend_state_dir: Path
) -> Iterator[Harness]:
    """The harness of one backend; afterwards nothing of its sandboxes may remain on the host."""
    made = HARNESSES[request.param](image_rootfs, backend_state_dir)
    try:
        yield made
        # Killed processes can take a moment to be reaped; then nothing may be left.
        wait_for(lambda: not made.leftovers(), 10)
        left = made.leftovers()
    finally:
        made.close()
    assert not left, f"left on the host after the test: {left}"


@pytest.fixture
async def backend(harness: Harness) -> AsyncIterator[SandboxBackend]:
    """A backend object, closed (every sandbox it started stopped) afterwards."""
    made = harness.make()
    yield made
    await made.close()


# --- workspaces and sandboxes ----------------------------------------------------------


class Workspaces:
    """Workspace directories a sandbox's host uid can reach.

    pytest's tmp_path is private to root (0700 parents), so workspaces live
    in a directory of their own under /tmp, mode 0711: traversable, not listable.
    """

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="sandpit-test-ws-", dir="/tmp"))
        self.base.chmod(0o711)
        self._names = itertools.count(1)

    def new(self, name: str | None = None) -> Path:
        path = self.base / (name or f"ws{next(self._names)}")
        path.mkdir(mode=0o700)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def workspaces() -> Iterator[Workspaces]:
    made = Workspaces()
    yield made
    made.remove()


class Sandboxes:
    """Starts sandboxes on a backend; `stop_all` ends every one of them."""

    def __init__(self, backend: SandboxBackend, workspaces: Workspaces) -> None:
        self.backend = backend
        self.workspaces = workspaces
        self.started: list[Sandbox] = []

    async def start(self, limits: Limits | None = None, workspace: Path | None = None) -> Sandbox:
        workspace = workspace if workspace is not None else self.workspaces.new()
        sandbox = await self.backend.start(spec_for(workspace, limits or Limits()))
        self.started.append(sandbox)
        return sandbox

    async def stop_all(self) -> None:
        for sandbox in self.started:
            await asyncio.wait_for(sandbox.stop(), 30)


def spec_for(workspace: Path, limits: Limits) -> SandboxSpec:
    return SandboxSpec(
        sandbox_id=uuid.uuid4().hex[:20],
        workspace_id=workspace.name,
        workspace_dir=workspace,
        limits=limits,
    )


@pytest.fixture
async def sandboxes(backend: SandboxBackend, workspaces: Workspaces) -> AsyncIterator[Sandboxes]:
    made = Sandboxes(backend, workspaces)
    yield made
    await made.stop_all()


@pytest.fixture
async def sandbox(sandboxes: Sandboxes) -> Sandbox:
    """A started sandbox with the seed's default limits on a fresh workspace."""
    return await sandboxes.start()


# --- child processes for the live cgroup tests ------------------------------------------


@pytest.fixture
def children() -> Iterator[Children]:
    spawned = Children()
    yield spawned
    spawned.cleanup()
