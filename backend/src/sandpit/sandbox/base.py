"""The sandbox interface every backend implements (bubblewrap, Docker, later Kubernetes).

A *sandbox* is one isolated machine-like environment per active workspace
session: its own user, PID, network, mount, IPC and UTS namespaces, the
runtime image as a read-only root, the workspace at `/app`, and limits for
everything in it together. Runs and terminals are *processes* started inside
it on request, with or without a PTY, so they share `/tmp`, loopback and the
process table as on a real machine.

Legal states of a sandbox: running → ended. `ended_reason` says why it ended
(`stopped`, `lifetime`, `idle`, `crashed`, `oom`, `shutdown`); once ended it
never runs again — the manager starts a new one.
"""

from __future__ import annotations

import asyncio
import enum
import socket
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from sandpit.errors import SandpitError
from sandpit.sandbox.limits import Limits


class SandboxError(SandpitError):
    """The sandbox could not do what was asked (not started, ended, broken)."""

    status_code = 503


class EndReason(enum.StrEnum):
    STOPPED = "stopped"  # on request
    LIFETIME = "lifetime"  # the sandbox lifetime limit
    IDLE = "idle"  # nothing ran for the idle timeout
    CRASHED = "crashed"  # its init process died unexpectedly
    SHUTDOWN = "shutdown"  # the server is stopping

    def sentence(self) -> str:
        return {
            EndReason.STOPPED: "The sandbox was stopped.",
            EndReason.LIFETIME: "The sandbox reached its lifetime limit and was ended.",
            EndReason.IDLE: "The sandbox was idle for too long and was ended.",
            EndReason.CRASHED: "The sandbox ended unexpectedly.",
            EndReason.SHUTDOWN: "The server is restarting; the sandbox was ended.",
        }[self]


@dataclass(frozen=True)
class ExecRequest:
    """A process to start in a sandbox.

    `group` names the cgroup leaf it runs in (`run-<id>`, `term-<id>`): all
    processes it starts stay in that group, so they can be killed together.
    """

    argv: list[str]
    env: dict[str, str]
    group: str
    cwd: str = "/app"
    pty: bool = False
    rows: int = 24
    cols: int = 80
    # Host descriptors that become 3, 4, ... in the process (the caller
    # keeps and closes its own copies).
    extra_fds: tuple[int, ...] | list[int] = ()
    # For a Python run (`python3 -- path`, the code runner): the modules a
    # warm interpreter preloads, asking the sandbox to fork the run from it
    # when it can (`Process.interpreter` says whether it did). None: fresh.
    warm: tuple[str, ...] | None = None


# Why a run that asked for the warm interpreter started fresh (the agent's codes).
FRESH_REASONS = frozenset({"starting", "environment", "shadowed", "unavailable", "not_python"})


@dataclass(frozen=True)
class Interpreter:
    """Which way a Python run started: forked from the warm interpreter, or fresh.

    `why` is one of `FRESH_REASONS` for a fresh start; `detail` names the
    shadowing path in the sandbox for `shadowed`. From the sandbox: only
    ever shown, never acted on.
    """

    warm: bool
    why: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ExitStatus:
    """How a process ended: an exit code, or the signal that killed it."""

    code: int | None
    signal: int | None
    error: str | None = None  # set when the program could not be started at all


@dataclass(frozen=True)
class SandboxStats:
    memory_bytes: int
    memory_limit_bytes: int
    cpu_seconds: float
    cpus: float
    pids: int
    pids_limit: int
    oom_kills: int
    started_at: float
    expires_at: float


class Process(Protocol):
    """A process started in a sandbox. File descriptors are the host's ends.

    With a PTY, `pty_fd` is the master (read output, write input, resize);
    without, `stdin_fd`, `stdout_fd` and `stderr_fd` are pipes.
    """

    pty_fd: int | None
    stdin_fd: int | None
    stdout_fd: int | None
    stderr_fd: int | None
    # For an `ExecRequest` with `warm`: which way it started; else None.
    interpreter: Interpreter | None

    async def wait(self) -> ExitStatus:
        """Wait for the process itself (not its children) to end."""
        ...

    async def signal(self, signum: int) -> None:
        """Send `signum` to the process's group (its session leader's group)."""
        ...

    async def kill_group(self) -> None:
        """Kill every process in its cgroup leaf, daemons and orphans included."""
        ...

    def oom_kills(self) -> int:
        """OOM kills in its leaf so far (a host-side fact, not the sandbox's word)."""
        ...

    def computing(self) -> bool | None:
        """Whether any process in its leaf is running or runnable now (on a
        CPU or waiting for one, throttled included), as the host's /proc says;
        None when that cannot be told."""
        ...

    def resize(self, rows: int, cols: int) -> None: ...

    def close(self) -> None:
        """Release host resources (fds, the cgroup leaf). Idempotent."""
        ...

    def close_in_background(self) -> asyncio.Future[None]:
        """`close`, with the cgroup leaf removed off the event loop: the fds at once, then the
        leaf in a thread of its own; the future is done once it is gone (it never fails).

        For a process whose group is dead (`kill_group`), when what comes next need not
        wait: removing a leaf waits for the kernel to finish the exits in it.
        """
        ...


class Sandbox(Protocol):
    id: str
    workspace_id: str
    limits: Limits
    started_at: float

    @property
    def ended_reason(self) -> EndReason | None: ...

    async def exec(self, request: ExecRequest) -> Process:
        """Start a process. Raises `SandboxError` if the sandbox has ended."""
        ...

    async def listen(self, host: str, port: int) -> socket.socket:
        """A TCP socket listening at host:port on the sandbox's own network.

        The caller owns it and may pass it to a process (`extra_fds`).
        Raises `SandboxError` if the sandbox has ended or cannot listen there.
        """
        ...

    async def stats(self) -> SandboxStats:
        """Use against the limits now. Raises `SandboxError` (saying why) once it has ended."""
        ...

    async def stop(self, reason: EndReason = EndReason.STOPPED) -> None:
        """End the sandbox and everything in it. Idempotent."""
        ...

    async def wait_ended(self) -> EndReason:
        """Wait until the sandbox has ended, for whatever reason."""
        ...


@dataclass(frozen=True)
class SandboxSpec:
    """What a backend needs to start a sandbox for one workspace."""

    sandbox_id: str
    workspace_id: str
    workspace_dir: Path
    limits: Limits
    env: dict[str, str] = field(default_factory=dict)
    # Whose sandbox it is (a user id; empty if unknown): what several
    # sandboxes share on the host (the package proxy's pool) is capped per owner.
    owner: str = ""
    # Host directories mounted read-only inside: (host dir, mount point). The
    # mount point must lie under `/run/` (a tmpfs in every sandbox, so a
    # backend can make any mount point there over the read-only image) and
    # not on one of the sandbox's own mounts. Their files must be readable by
    # the sandbox's user (uid 1000 inside; the host uid of a bubblewrap
    # sandbox is unprivileged, so every parent must be traversable too).
    read_only_mounts: tuple[tuple[Path, str], ...] = ()
    # The workspace at /app, read-only: nothing inside can change its files.
    workspace_read_only: bool = False
    # False: no package proxy at all (no socket, no forwarder, no CA bundle);
    # with no network namespace of its own reaching out, nothing inside can
    # connect anywhere but its own loopback. Give such processes
    # `environment.base_env(package_proxy=False)`.
    package_proxy: bool = True
    # A second sandbox beside the workspace's own (the editor's language
    # servers, with `workspace_read_only`): its files keep their owner (the
    # workspace's sandbox must keep writing them; both backends give each
    # sandbox its own host uid, so without this a second sandbox would take
    # the files from the first) and only their group is made the workspace's
    # (`ownership.hand_over`). Every sandbox on a workspace runs with the
    # workspace's own gid (`uids.GroupPool`), so this one reads what is
    # group-readable (0644 files, 0755 folders: what the API and a default
    # umask make); the top folder is 0750, so nothing else on the host can.
    share_workspace: bool = False

    def __post_init__(self) -> None:
        for _host, inside in self.read_only_mounts:
            check_mount_point(inside)


# Mount points every sandbox already uses under /run (the agent's files, the
# package proxy's socket and CA, the Docker agent's socket).
RESERVED_MOUNTS = ("/run/sandpit", "/run/sandpit-proxy", "/run/sandpit-ca", "/run/sandpit-agent")


def check_mount_point(inside: str) -> None:
    """Raise `ValueError` unless `inside` can be an extra read-only mount point (see `SandboxSpec`).

    A programming error, not a user's: specs are built by the server.
    """
    path = PurePosixPath(inside)
    if str(path) != inside or not path.is_absolute() or ".." in path.parts:
        raise ValueError(f"not a normalized absolute path: {inside!r}")
    if path.parent == PurePosixPath("/") or path.parts[1] != "run":
        raise ValueError(f"read-only mounts go under /run/: {inside!r}")
    for reserved in RESERVED_MOUNTS:
        if path == PurePosixPath(reserved) or PurePosixPath(reserved) in path.parents:
            raise ValueError(f"{inside!r} is on the sandbox's own mount {reserved}")


class SandboxBackend(Protocol):
    name: str

    async def start(self, spec: SandboxSpec) -> Sandbox:
        """Start a sandbox. Raises `SandboxError` with a sentence if it cannot."""
        ...

    async def reap_orphans(self) -> list[str]:
        """Kill and remove every sandbox a previous server process left; return their ids."""
        ...

    async def close(self) -> None:
        """Stop every sandbox this backend started (server shutdown)."""
        ...
