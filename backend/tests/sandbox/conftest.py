"""Fixtures for the sandbox backend contract (`test_contract.py`) and the exploit suite.

Everything here runs the real thing: the runtime image built by `make test`,
real cgroups under a random test root (``sandpit-test-<hex>``, never the
server's ``sandpit``), real host uids from a range the server does not use
(300000 and up; the server's default is 200000-209999).

Backends are made by a *harness* keyed by name (`HARNESSES`): it builds the
backend object and answers host-side questions the contract needs but the
`SandboxBackend` interface does not (which host processes belong to a
sandbox, which host uid owns what it writes, what is left over on the host).
Adding a backend means adding a harness class and its name to `HARNESSES`;
every test that takes `backend`, `sandbox` or `sandboxes` then runs against it.

The exploit suite (`tests/exploits/`) imports these fixtures and helpers.

Helpers:
- `run(sandbox, program, *args, stdin=..., timeout=...)` runs a process with
  pipes and returns a `Result`; on timeout it kills the process's group.
- `Started` is the same for a process left running (a server, a sleeper).
- `PtySession` drives a process on a PTY (`send`, `read_until`, `resize`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from sandpit.config import REPO_DIR
from sandpit.runtime.image import find_image
from sandpit.sandbox import cgroups
from sandpit.sandbox.base import (
    ExecRequest,
    ExitStatus,
    Process,
    Sandbox,
    SandboxBackend,
    SandboxSpec,
)
from sandpit.sandbox.bubblewrap import (
    INSIDE_DIR,
    BubblewrapBackend,
    BubblewrapSandbox,
    UidPool,
)
from sandpit.sandbox.limits import Limits, MiB
from tests.sandbox.agent_harness import AgentHarness
from tests.sandbox.docker_harness import DockerHarness

# The environment the tests give every process (the runs service passes the same kind).
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/app", "LANG": "C.UTF-8"}
# What `run` keeps of each output stream; the rest is read and dropped.
OUTPUT_CAP = 1 * MiB
# Host uids for test sandboxes: a block per backend object, never reused in a session.
TEST_UID_BASE = 300_000
UID_BLOCK = 32
_uid_blocks = itertools.count(TEST_UID_BASE, UID_BLOCK)


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


def processes_of_uids(uids: range) -> dict[int, str]:
    """Host pid -> command name of every live (non-zombie) process whose real uid is in `uids`."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        uid = int(fields.get("Uid", "-1 ").split()[0])
        if uid in uids and not fields.get("State", "").strip().startswith("Z"):
            found[int(entry)] = fields.get("Name", "?").strip()
    return found


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


class BubblewrapHarness(AgentHarness):
    """Makes `BubblewrapBackend`s on a test cgroup root and inspects what they leave."""

    name = "bubblewrap"

    def __init__(self, rootfs: Path, state_dir: Path) -> None:
        super().__init__(rootfs, state_dir)
        self.uid_blocks: list[range] = []

    def make(self) -> BubblewrapBackend:
        """A new backend object (a new "server") on this harness's cgroup root and uids."""
        first = next(_uid_blocks)
        self.uid_blocks.append(range(first, first + UID_BLOCK))
        return BubblewrapBackend(
            rootfs=self.rootfs,
            state_dir=self.state_dir,
            driver=cgroups.detect(self.root_name),
            uids=UidPool(first, UID_BLOCK),
        )

    def host_uid(self, sandbox: Sandbox) -> int:
        """The host uid that sandbox code runs as and that owns the files it writes."""
        assert isinstance(sandbox, BubblewrapSandbox)
        return sandbox.uid

    def host_processes(self, sandbox: Sandbox) -> dict[int, str]:
        """Every process on the host running as the sandbox's host uid, in its cgroup or not."""
        uid = self.host_uid(sandbox)
        return processes_of_uids(range(uid, uid + 1))

    def sandbox_exists_on_host(self, sandbox_id: str) -> bool:
        return self.driver.open_sandbox(sandbox_id) is not None

    nosuid_mounts = True

    def expected_binds(self, sandbox: Sandbox, workspace: Path) -> dict[str, str]:
        """The image, the agent's files, the workspace."""
        return {"/": str(self.rootfs), "/run/sandpit": str(INSIDE_DIR), "/app": str(workspace)}

    def engine_files(self, sandbox: Sandbox) -> Path | None:
        return None

    def leftovers(self) -> list[str]:
        """Everything of this harness's sandboxes still on the host: cgroups and processes."""
        found = [f"cgroup {self.root_name}/{name}" for name in self.driver.list_sandboxes()]
        for block in self.uid_blocks:
            found += [f"process {pid} ({name})" for pid, name in processes_of_uids(block).items()]
        return found

    def spawn_server(self, workspace: Path, sandbox_id: str) -> subprocess.Popen[bytes]:
        """A separate "server" process that starts sandbox `sandbox_id` with a sleeper in it.

        It prints "ready" once the sleeper runs, then waits to be killed
        (the test plays the crash with SIGKILL).
        """
        first = next(_uid_blocks)
        self.uid_blocks.append(range(first, first + UID_BLOCK))
        args = [self.root_name, str(self.rootfs), str(self.state_dir), str(workspace)]
        return subprocess.Popen(
            [sys.executable, "-c", _SERVER_PROGRAM, *args, str(first), sandbox_id],
            stdout=subprocess.PIPE,
        )

    def close(self) -> None:
        self.driver.remove_root()


_SERVER_PROGRAM = """
import asyncio, sys
from pathlib import Path
from sandpit.sandbox import cgroups
from sandpit.sandbox.base import ExecRequest, SandboxSpec
from sandpit.sandbox.bubblewrap import BubblewrapBackend, UidPool
from sandpit.sandbox.limits import Limits

async def main():
    root, rootfs, state, workspace, first_uid, sandbox_id = sys.argv[1:]
    backend = BubblewrapBackend(
        rootfs=Path(rootfs), state_dir=Path(state), driver=cgroups.detect(root),
        uids=UidPool(int(first_uid), 1),
    )
    sandbox = await backend.start(SandboxSpec(sandbox_id, "ws", Path(workspace), Limits()))
    await sandbox.exec(ExecRequest(["sleep", "300"], {"PATH": "/usr/bin:/bin"}, "run-left"))
    print("ready", flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""


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


# --- running processes -----------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """How a process run by `run` ended and what it wrote (each stream capped at `OUTPUT_CAP`)."""

    code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    oom_kills: int
    timed_out: bool = False
    error: str | None = None
    stdout_total: int = 0  # bytes read from stdout, kept or dropped

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def __str__(self) -> str:  # shown by failed asserts
        return (
            f"Result(code={self.code}, signal={self.signal}, timed_out={self.timed_out}, "
            f"error={self.error!r}, oom_kills={self.oom_kills},\n"
            f"  stdout={self.stdout[-2000:]!r},\n  stderr={self.stderr[-2000:]!r})"
        )


class Collector:
    """Reads a host-side fd (pipe or PTY master) on the event loop, keeping at most `cap` bytes."""

    def __init__(self, fd: int, cap: int = OUTPUT_CAP) -> None:
        self.fd = fd
        self.cap = cap
        self.data = bytearray()
        self.total = 0
        self.eof = asyncio.Event()
        self._grew = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        for _ in range(16):
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:  # EIO: the PTY's other side is gone
                chunk = b""
            if not chunk:
                self.stop()
                return
            self.total += len(chunk)
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            self._grew.set()

    async def wait_for(self, needle: bytes, timeout: float) -> bytes:
        """Wait until `needle` has been read; return all kept so far. TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while needle not in self.data:
                if self.eof.is_set():
                    raise AssertionError(f"output ended without {needle!r}: {bytes(self.data)!r}")
                self._grew.clear()
                grew = asyncio.ensure_future(self._grew.wait())
                ended = asyncio.ensure_future(self.eof.wait())
                try:
                    await asyncio.wait({grew, ended}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    grew.cancel()
                    ended.cancel()
        return bytes(self.data)

    def stop(self) -> None:
        """Stop reading (the fd stays open: its Process owns it)."""
        if not self.eof.is_set():
            self._loop.remove_reader(self.fd)
            self.eof.set()


def command(program: str | Sequence[str], args: Sequence[str]) -> list[str]:
    """A string is Python source, run as `python3 -c`; a list is an argv."""
    if isinstance(program, str):
        return ["python3", "-c", program, *args]
    return [*program, *args]


async def feed_stdin(process: Process, data: bytes) -> None:
    """Write `data` to the process's stdin, then close it (the helper owns stdin from here)."""
    fd = process.stdin_fd
    assert fd is not None
    os.set_blocking(fd, False)
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    try:
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                writable = loop.create_future()
                loop.add_writer(fd, writable.set_result, None)
                try:
                    await writable
                finally:
                    loop.remove_writer(fd)
    except BrokenPipeError:
        pass  # the process stopped reading: fine, it may not want its input
    finally:
        # Close and forget it, so the Process's close() cannot close a reused number.
        process.stdin_fd = None
        os.close(fd)


class Started:
    """A process started with pipes whose output is being collected in the background."""

    def __init__(self, process: Process, cap: int) -> None:
        self.process = process
        assert process.stdout_fd is not None
        assert process.stderr_fd is not None
        self.stdout = Collector(process.stdout_fd, cap)
        self.stderr = Collector(process.stderr_fd, cap)
        self._feeding: asyncio.Task[None] | None = None

    @classmethod
    async def begin(
        cls,
        sandbox: Sandbox,
        program: str | Sequence[str],
        *args: str,
        stdin: bytes | None = b"",
        env: dict[str, str] | None = None,
        cap: int = OUTPUT_CAP,
        group: str | None = None,
    ) -> Started:
        """Start `program`; `stdin` is written then closed (None: left open for `send`)."""
        process = await sandbox.exec(
            ExecRequest(
                argv=command(program, args),
                env=env if env is not None else dict(SANDBOX_ENV),
                group=group or f"run-{uuid.uuid4().hex[:12]}",
            )
        )
        started = cls(process, cap)
        if stdin is not None:
            started._feeding = asyncio.ensure_future(feed_stdin(process, stdin))
        return started

    async def finish(self, timeout: float) -> Result:
        """Wait up to `timeout` for the process and its output to end; then kill its group.

        Output is waited for after the exit too, because a child can hold
        the pipes open; when the deadline passes, the whole group is killed.
        """
        deadline = time.monotonic() + timeout
        timed_out = False
        try:
            status = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await self.process.kill_group()
            status = await asyncio.wait_for(self.process.wait(), 15)
        for stream in (self.stdout, self.stderr):
            left = max(2.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(stream.eof.wait(), left)
            except TimeoutError:
                await self.process.kill_group()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.eof.wait(), 5)
        return await self._result(status, timed_out)

    async def _result(self, status: ExitStatus, timed_out: bool) -> Result:
        self.stdout.stop()
        self.stderr.stop()
        if self._feeding is not None:
            # Finished (or cancelled) before close(), which would close stdin under it.
            self._feeding.cancel()
            await asyncio.wait({self._feeding})
            if not self._feeding.cancelled():
                self._feeding.result()
        oom_kills = self.process.oom_kills()
        self.process.close()
        return Result(
            code=status.code,
            signal=status.signal,
            stdout=bytes(self.stdout.data),
            stderr=bytes(self.stderr.data),
            oom_kills=oom_kills,
            timed_out=timed_out,
            error=status.error,
            stdout_total=self.stdout.total,
        )

    async def has_ended(self, within: float = 0.1) -> bool:
        """Whether the process itself ended (waiting at most `within` seconds to find out)."""
        try:
            await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            return False
        return True

    async def kill(self) -> Result:
        """Kill the process's group now and collect what it wrote."""
        await self.process.kill_group()
        return await self.finish(15)


async def run(
    sandbox: Sandbox,
    program: str | Sequence[str],
    *args: str,
    stdin: bytes = b"",
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    cap: int = OUTPUT_CAP,
) -> Result:
    """Run `program` (Python source, or an argv) to its end, as a run does, in its own group.

    Output beyond `cap` per stream is read and dropped. After `timeout`
    seconds every process of the run is killed (`Result.timed_out`).
    """
    started = await Started.begin(sandbox, program, *args, stdin=stdin, env=env, cap=cap)
    return await started.finish(timeout)


async def run_ok(
    sandbox: Sandbox, program: str | Sequence[str], *args: str, timeout: float = 30.0
) -> str:
    """`run`, asserting exit code 0; return stdout as text."""
    result = await run(sandbox, program, *args, timeout=timeout)
    assert result.code == 0, str(result)
    return result.out


class PtySession:
    """A process on a PTY: `send` keystrokes, `read_until` some output, `resize`, `close`."""

    def __init__(self, process: Process) -> None:
        assert process.pty_fd is not None
        self.process = process
        self.output = Collector(process.pty_fd)

    @classmethod
    async def open(
        cls, sandbox: Sandbox, argv: Sequence[str], *, rows: int = 24, cols: int = 80
    ) -> PtySession:
        process = await sandbox.exec(
            ExecRequest(
                argv=list(argv),
                env={**SANDBOX_ENV, "TERM": "xterm"},
                group=f"term-{uuid.uuid4().hex[:12]}",
                pty=True,
                rows=rows,
                cols=cols,
            )
        )
        return cls(process)

    def send(self, data: bytes) -> None:
        assert self.process.pty_fd is not None
        os.write(self.process.pty_fd, data)

    async def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        return await self.output.wait_for(needle, timeout)

    def resize(self, rows: int, cols: int) -> None:
        self.process.resize(rows, cols)

    async def close(self, timeout: float = 10.0) -> ExitStatus:
        """Wait for the process to end (killing its group after `timeout`), then release it."""
        try:
            status = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.process.kill_group()
            status = await asyncio.wait_for(self.process.wait(), 15)
        self.output.stop()
        self.process.close()
        return status


def signal_name(number: int | None) -> str:
    return signal.Signals(number).name if number else "none"
