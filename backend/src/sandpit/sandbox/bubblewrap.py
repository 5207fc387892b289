"""The bubblewrap backend: a sandbox is a bwrap process tree in its own cgroup.

How a sandbox starts (each step for a reason):
1. A cgroup `sandpit/<id>` gets the limits; the agent's leaf is made in it.
2. The workspace directory is handed to an unprivileged host uid picked for
   this sandbox (a root server must never map the sandbox user to root:
   uid 1000 inside would then own every root-owned file it can see).
3. `sandpit-launch` joins the agent leaf, sets rlimits, drops to that uid
   with no_new_privs and a parent-death signal, and executes bwrap, so
   nothing of the sandbox ever runs as root or outside its cgroup.
4. bwrap makes fresh user, PID, network, IPC, UTS and mount namespaces,
   mounts the runtime image read-only as `/`, the workspace at `/app`, size-
   capped tmpfs on `/tmp` and `/dev/shm`, loads the seccomp filter and starts
   the agent, which inherits one end of a SOCK_SEQPACKET pair. bwrap's
   arguments travel through a pipe (`--args`), so host paths do not show in
   the sandbox's `/proc/1/cmdline`.
Runs and terminals are then forked by the agent, held at a gate until the
host has moved them into their own cgroup leaf, and released.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sandpit.proxy import bridge
from sandpit.proxy.server import PackageProxy
from sandpit.sandbox import cgroups, launcher
from sandpit.sandbox.agent_process import AgentProcess, exec_via_agent
from sandpit.sandbox.base import (
    EndReason,
    ExecRequest,
    SandboxError,
    SandboxSpec,
    SandboxStats,
)
from sandpit.sandbox.channel import AgentChannel, socket_pair
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.ownership import chown_tree, open_workspace
from sandpit.sandbox.seccomp import seccomp_filter

log = logging.getLogger(__name__)

BWRAP = "/usr/bin/bwrap"
INSIDE_DIR = Path(__file__).with_name("inside")
SUPPORT_MOUNT = "/run/sandpit"
SANDBOX_UID = 1000
START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class BwrapLayout:
    """Host paths a sandbox is made of."""

    rootfs: Path
    workspace: Path
    support: Path
    font_cache: Path | None = None
    # The package proxy: this sandbox's socket directory, and the CA bundle
    # pip trusts (see `sandpit.proxy.bridge`).
    proxy_dir: Path | None = None
    ca_bundle: Path | None = None


def bwrap_args(
    layout: BwrapLayout, limits: Limits, *, seccomp_fd: int, agent_fd: int, workspace_fd: int
) -> list[str]:
    """bwrap's options for one sandbox (they go through `--args FD`). Pure; tested literally."""
    args = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--disable-userns",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandpit",
        "--die-with-parent",
        "--new-session",
        "--ro-bind", str(layout.rootfs), "/",
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
        "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm",
        "--tmpfs", "/run",
        "--ro-bind", str(layout.support), SUPPORT_MOUNT,
        # By descriptor, opened without following links: a workspace directory
        # swapped for a link can never put another directory at /app.
        "--bind-fd", str(workspace_fd), "/app",
    ]  # fmt: skip
    if layout.font_cache is not None:
        # matplotlib wants a writable config dir; a prebuilt font list in it
        # saves ~200 ms on the first import.
        args += ["--ro-bind", str(layout.font_cache), f"/tmp/.matplotlib/{layout.font_cache.name}"]
    if layout.proxy_dir is not None:
        args += ["--ro-bind", str(layout.proxy_dir), bridge.PROXY_MOUNT]
    if layout.ca_bundle is not None:
        args += ["--ro-bind", str(layout.ca_bundle), bridge.CA_MOUNT]
    args += [
        # bwrap makes /dev and /run as writable tmpfs without a size limit;
        # only /app, /tmp and /dev/shm may be written (their submounts stay).
        "--remount-ro", "/dev",
        "--remount-ro", "/run",
        "--chdir", "/app",
        "--clearenv",
        "--setenv", "HOME", "/app",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "SANDPIT_AGENT_FD", str(agent_fd),
        "--seccomp", str(seccomp_fd),
    ]  # fmt: skip
    return args


# The agent: `-I -S` keeps the environment and site-packages out of it and
# starts it fast; it needs only the standard library.
AGENT_COMMAND = ["/usr/bin/python3", "-I", "-S", f"{SUPPORT_MOUNT}/agent.py"]


def sandbox_rlimits(limits: Limits) -> dict[launcher.RlimitName, launcher.Rlimit]:
    """Per-process limits from the seed (`--ulimit nofile=100 --ulimit nproc=50`)."""
    return {
        "nofile": (limits.open_files, limits.open_files),
        "nproc": (limits.pids, limits.pids),
        "fsize": (limits.file_size_bytes, limits.file_size_bytes),
    }


class UidPool:
    """Unprivileged host uids, one per live sandbox, from a reserved range."""

    def __init__(self, first: int, count: int) -> None:
        if first < 1000 or count < 1:
            raise ValueError("the sandbox uid range must start at 1000 or above")
        self._free = list(range(first, first + count))
        self._used: set[int] = set()

    def take(self) -> int:
        if not self._free:
            raise SandboxError("Too many sandboxes are running; try again in a minute.")
        uid = self._free.pop(0)
        self._used.add(uid)
        return uid

    def give_back(self, uid: int) -> None:
        if uid in self._used:
            self._used.discard(uid)
            self._free.append(uid)


class BubblewrapSandbox:
    """One running bwrap sandbox. Created by `BubblewrapBackend.start`."""

    def __init__(
        self,
        spec: SandboxSpec,
        cgroup: cgroups.SandboxCgroup,
        uid: int,
        process: asyncio.subprocess.Process,
        channel: AgentChannel,
        on_end: Callable[[BubblewrapSandbox], None],
    ) -> None:
        self.id = spec.sandbox_id
        self.workspace_id = spec.workspace_id
        self.limits = spec.limits
        self.started_at = time.time()
        self.cgroup = cgroup
        self.uid = uid
        self.channel = channel
        self._process = process
        self._on_end = on_end
        self._ended: asyncio.Future[EndReason] = asyncio.get_running_loop().create_future()
        self._stop_reason: EndReason | None = None
        self._agent_pids = cgroup.leaf("agent")
        self._watch = asyncio.get_running_loop().create_task(self._watch_exit())

    @property
    def ended_reason(self) -> EndReason | None:
        return self._ended.result() if self._ended.done() else None

    async def exec(self, request: ExecRequest) -> AgentProcess:
        if self._ended.done():
            raise SandboxError(self._ended.result().sentence())
        return await exec_via_agent(self.channel, self.cgroup, self._agent_pids, request)

    async def listen(self, host: str, port: int) -> socket.socket:
        if self._ended.done():
            raise SandboxError(self._ended.result().sentence())
        return await self.channel.listen(host, port)

    async def stats(self) -> SandboxStats:
        if self._ended.done():
            raise SandboxError(self._ended.result().sentence())
        raw = await asyncio.to_thread(self.cgroup.stats)
        return SandboxStats(
            memory_bytes=raw.memory_bytes,
            memory_limit_bytes=raw.memory_limit_bytes or self.limits.memory_bytes,
            cpu_seconds=raw.cpu_usage_ns / 1e9,
            cpus=self.limits.cpus,
            pids=raw.pids,
            pids_limit=raw.pids_limit or self.limits.pids,
            oom_kills=raw.oom_kills,
            started_at=self.started_at,
            expires_at=self.started_at + self.limits.lifetime_s,
        )

    async def stop(self, reason: EndReason = EndReason.STOPPED) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        # Kill by cgroup, not just bwrap: daemons that left the process tree
        # are still in the cgroup, and nothing may outlive the sandbox.
        with contextlib.suppress(OSError, cgroups.CgroupError):
            await asyncio.to_thread(self.cgroup.kill_all)
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()
        await self.wait_ended()

    async def wait_ended(self) -> EndReason:
        return await asyncio.shield(self._ended)

    async def _watch_exit(self) -> None:
        await self._process.wait()
        self.channel.close()
        with contextlib.suppress(OSError, cgroups.CgroupError):
            await asyncio.to_thread(self.cgroup.remove)
        self._on_end(self)
        self._ended.set_result(self._stop_reason or EndReason.CRASHED)


class BubblewrapBackend:
    """Starts sandboxes with bubblewrap; see the module docstring."""

    name = "bubblewrap"

    def __init__(
        self,
        *,
        rootfs: Path,
        state_dir: Path,
        driver: cgroups.CgroupDriver,
        uids: UidPool,
        font_cache: Path | None = None,
        proxy: PackageProxy | None = None,
        ca_bundle: Path | None = None,
    ) -> None:
        self.rootfs = rootfs
        self.state_dir = state_dir
        self.driver = driver
        self.uids = uids
        self.font_cache = font_cache
        # Package proxy: each sandbox gets a socket on it and a forwarder.
        self.proxy = proxy
        self.ca_bundle = ca_bundle
        self._forwarders = bridge.Forwarders(SUPPORT_MOUNT)
        self.launcher = launcher.ensure_launcher(state_dir / "bin")
        self.sandboxes: dict[str, BubblewrapSandbox] = {}
        self._seccomp = seccomp_filter()

    async def start(self, spec: SandboxSpec) -> BubblewrapSandbox:
        cgroup = await asyncio.to_thread(self.driver.create_sandbox, spec.sandbox_id, spec.limits)
        uid = self.uids.take()
        try:
            agent_leaf = await asyncio.to_thread(cgroup.leaf, "agent")
            workspace_fd = await asyncio.to_thread(open_workspace, spec.workspace_dir)
            if self.proxy is not None:
                await self.proxy.attach(spec.sandbox_id, spec.workspace_id, owner_uid=uid)
            try:
                await asyncio.to_thread(chown_tree, workspace_fd, uid, uid)
                return await self._launch(spec, cgroup, agent_leaf, uid, workspace_fd)
            finally:
                os.close(workspace_fd)
        except BaseException:
            if self.proxy is not None:
                self.proxy.detach(spec.sandbox_id)
            self.uids.give_back(uid)
            with contextlib.suppress(OSError, cgroups.CgroupError):
                await asyncio.to_thread(cgroup.remove)
            raise

    async def _launch(
        self,
        spec: SandboxSpec,
        cgroup: cgroups.SandboxCgroup,
        leaf: cgroups.Leaf,
        uid: int,
        workspace_fd: int,
    ) -> BubblewrapSandbox:
        host_end, sandbox_end = socket_pair()
        seccomp_fd = os.memfd_create("sandpit-seccomp", 0)
        args_r, args_w = os.pipe()
        try:
            os.write(seccomp_fd, self._seccomp)
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
            endpoint = self.proxy.endpoints.get(spec.sandbox_id) if self.proxy else None
            layout = BwrapLayout(
                self.rootfs,
                spec.workspace_dir,
                INSIDE_DIR,
                self.font_cache,
                proxy_dir=endpoint.directory if endpoint else None,
                ca_bundle=self.ca_bundle,
            )
            args = bwrap_args(
                layout,
                spec.limits,
                seccomp_fd=seccomp_fd,
                agent_fd=sandbox_end.fileno(),
                workspace_fd=workspace_fd,
            )
            encoded = b"".join(arg.encode() + b"\0" for arg in args)
            argv = launcher.launcher_argv(
                self.launcher,
                [BWRAP, "--args", str(args_r), "--", *AGENT_COMMAND],
                uid=uid,
                gid=uid,
                cgroup_procs=leaf.procs_files,
                rlimits=sandbox_rlimits(spec.limits),
                keep_fds=[seccomp_fd, sandbox_end.fileno(), args_r, workspace_fd],
                env={},
            )
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(seccomp_fd, sandbox_end.fileno(), args_r, workspace_fd),
                env={},
                start_new_session=True,
            )
            # The args pipe is small enough to fit the pipe buffer (64 KiB).
            os.write(args_w, encoded)
        finally:
            os.close(args_w)
            os.close(args_r)
            os.close(seccomp_fd)
            sandbox_end.close()
        channel = AgentChannel(host_end)
        sandbox = BubblewrapSandbox(spec, cgroup, uid, process, channel, self._ended)
        try:
            await channel.ping(START_TIMEOUT_S)
        except SandboxError:
            stderr = await _read_bounded(process)
            await sandbox.stop(EndReason.CRASHED)
            log.error("sandbox %s failed to start: %s", spec.sandbox_id, stderr)
            raise SandboxError(
                "The sandbox could not be started; the error has been logged."
            ) from None
        self.sandboxes[sandbox.id] = sandbox
        if self.proxy is not None:
            await self._forwarders.start(sandbox)
        return sandbox

    def _ended(self, sandbox: BubblewrapSandbox) -> None:
        self.sandboxes.pop(sandbox.id, None)
        self.uids.give_back(sandbox.uid)
        if self.proxy is not None:
            self.proxy.detach(sandbox.id)
        self._forwarders.stop(sandbox.id)

    async def reap_orphans(self) -> list[str]:
        keep = set(self.sandboxes)
        return await asyncio.to_thread(self.driver.reap, keep)

    async def close(self) -> None:
        await asyncio.gather(
            *(s.stop(EndReason.SHUTDOWN) for s in list(self.sandboxes.values())),
            return_exceptions=True,
        )
        if self.proxy is not None:
            await self.proxy.close()


async def _read_bounded(process: asyncio.subprocess.Process, limit: int = 4096) -> str:
    if process.stderr is None:
        return ""
    try:
        data = await asyncio.wait_for(process.stderr.read(limit), 2)
    except TimeoutError:
        return ""
    return data.decode("utf-8", "replace").strip()


def font_cache_of(image_metadata: dict[str, object], rootfs: Path) -> Path | None:
    """The prebuilt matplotlib font list in the image, if the build recorded one."""
    recorded = image_metadata.get("matplotlib_font_cache")
    if not isinstance(recorded, str):
        return None
    path = rootfs / recorded.lstrip("/")
    return path if path.is_file() else None
