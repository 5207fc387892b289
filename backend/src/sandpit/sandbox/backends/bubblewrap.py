"""The bubblewrap backend: a sandbox is a bwrap process tree in its own cgroup.

How a sandbox starts (each step for a reason):
1. A cgroup `sandpit/<id>` gets the limits; the agent's leaf is made in it.
2. The workspace directory is handed to an unprivileged host uid picked for
   this sandbox (a root server must never map the sandbox user to root:
   uid 1000 inside would then own every root-owned file it can see) and to
   the workspace's own gid (`uids.GroupPool`; a shared read-only sandbox
   keeps the owner and takes only the group, see `ownership.hand_over`).
3. `sandpit-launch` joins the agent leaf, sets rlimits, drops to that uid
   and gid (no supplementary groups; bwrap maps both to 1000 inside)
   with no_new_privs and a parent-death signal, and executes bwrap, so
   nothing of the sandbox ever runs as root or outside its cgroup.
4. bwrap makes fresh user, PID, network, IPC, UTS and mount namespaces,
   mounts the runtime image read-only as `/`, the workspace at `/app`, size-
   capped tmpfs on `/tmp` and `/dev/shm`, loads the seccomp filter and starts
   the agent as the sandbox's pid 1 (`--as-pid-1`: no reaper of bwrap's
   stays in the sandbox), which inherits one end of a SOCK_SEQPACKET pair. bwrap's
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sandpit.proxy.server import PackageProxy
from sandpit.sandbox import cgroups, launcher, proxy_bridge
from sandpit.sandbox.agent_sandbox import AgentBackend, AgentSandbox
from sandpit.sandbox.base import SandboxError, SandboxSpec, SandboxStats
from sandpit.sandbox.channel import AgentChannel, socket_pair
from sandpit.sandbox.layout import (
    AGENT_COMMAND,
    INSIDE_DIR,
    SANDBOX_UID,
    SUPPORT_MOUNT,
    WORKSPACE_MOUNT,
)
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.ownership import hand_over, open_workspace
from sandpit.sandbox.seccomp import seccomp_filter
from sandpit.sandbox.uids import GroupPool, UidPool

log = logging.getLogger(__name__)

BWRAP = "/usr/bin/bwrap"


@dataclass(frozen=True)
class BwrapLayout:
    """Host paths a sandbox is made of."""

    rootfs: Path
    workspace: Path
    support: Path
    font_cache: Path | None = None
    # The package proxy: this sandbox's socket directory, and the CA bundle
    # pip trusts (see `sandpit.sandbox.proxy_bridge`).
    proxy_dir: Path | None = None
    ca_bundle: Path | None = None
    # Extra host directories, read-only: (host dir, mount point under /run).
    read_only_mounts: tuple[tuple[Path, str], ...] = ()
    workspace_read_only: bool = False


def bwrap_args(
    layout: BwrapLayout,
    limits: Limits,
    *,
    seccomp_fd: int,
    agent_fd: int,
    workspace_fd: int | None = None,
    mount_fds: tuple[int, ...] = (),
) -> list[str]:
    """bwrap's options for one sandbox (they go through `--args FD`). Pure; tested literally.

    `workspace_fd` and `mount_fds`: descriptors of the workspace and of each
    of `layout.read_only_mounts`' host directories, in order (opened by the
    server without following a final link). bwrap still resolves each one's
    path as the sandbox's unprivileged host uid: every parent must be
    searchable by it. None: every source is bound by its path in `layout`,
    a staged layout (`staged_layout`) whose paths the launcher made.
    """
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
        # The agent is the sandbox's pid 1 and reaps orphans itself: bwrap's
        # own reaper would run there as the sandbox's uid, dumpable, so user
        # code could read and write its memory through /proc/1/mem.
        "--as-pid-1",
        "--ro-bind", str(layout.rootfs), "/",
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
        "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm",
        "--tmpfs", "/run",
        "--ro-bind", str(layout.support), SUPPORT_MOUNT,
    ]  # fmt: skip
    read_only = layout.workspace_read_only
    if workspace_fd is not None:
        # By descriptor, opened without following links: a workspace directory
        # swapped for a link can never put another directory at /app.
        args += ["--ro-bind-fd" if read_only else "--bind-fd", str(workspace_fd), WORKSPACE_MOUNT]
    else:
        # Staged: the launcher bound the descriptor there, in a tmpfs of its own.
        args += ["--ro-bind" if read_only else "--bind", str(layout.workspace), WORKSPACE_MOUNT]
    if layout.font_cache is not None:
        # matplotlib wants a writable config dir; a prebuilt font list in it
        # saves ~200 ms on the first import.
        args += ["--ro-bind", str(layout.font_cache), f"/tmp/.matplotlib/{layout.font_cache.name}"]
    if layout.proxy_dir is not None:
        args += ["--ro-bind", str(layout.proxy_dir), proxy_bridge.PROXY_MOUNT]
    if layout.ca_bundle is not None:
        args += ["--ro-bind", str(layout.ca_bundle), proxy_bridge.CA_MOUNT]
    # Under /run (checked by `SandboxSpec`): bwrap makes the mount points in
    # that tmpfs, which is then remounted read-only with the rest.
    if workspace_fd is not None:
        for fd, (_host, inside) in zip(mount_fds, layout.read_only_mounts, strict=True):
            args += ["--ro-bind-fd", str(fd), inside]
    else:
        for host, inside in layout.read_only_mounts:
            args += ["--ro-bind", str(host), inside]
    args += [
        # bwrap makes /dev and /run as writable tmpfs without a size limit;
        # only /app, /tmp and /dev/shm may be written (their submounts stay).
        "--remount-ro", "/dev",
        "--remount-ro", "/run",
        "--chdir", WORKSPACE_MOUNT,
        "--clearenv",
        "--setenv", "HOME", WORKSPACE_MOUNT,
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "SANDPIT_AGENT_FD", str(agent_fd),
        "--seccomp", str(seccomp_fd),
    ]  # fmt: skip
    return args


def staged_layout(layout: BwrapLayout, stage: Path) -> tuple[BwrapLayout, list[tuple[Path, str]]]:
    """The layout as bwrap sees it once the launcher has staged its parts under `stage`,
    and the (host path, name) of each part but the workspace and read-only mounts,
    which the caller stages from the descriptors it holds (as "app", "mount-<i>").

    Why: bwrap, as the sandbox's unprivileged uid, resolves every source by its
    path (even one given by descriptor), so without the stage every directory
    above them, the data directory first, would have to be searchable by
    that uid. With it the data directory is 0700 (`config.private_data_dir`).
    """
    parts = [(layout.rootfs, "rootfs"), (layout.support, "support")]
    font_cache = proxy_dir = ca_bundle = None
    if layout.font_cache is not None:
        # bwrap mounts it under its own name: keep it.
        font_cache = stage / layout.font_cache.name
        parts.append((layout.font_cache, layout.font_cache.name))
    if layout.proxy_dir is not None:
        proxy_dir = stage / "proxy"
        parts.append((layout.proxy_dir, "proxy"))
    if layout.ca_bundle is not None:
        ca_bundle = stage / "ca-bundle"
        parts.append((layout.ca_bundle, "ca-bundle"))
    staged = BwrapLayout(
        rootfs=stage / "rootfs",
        workspace=stage / "app",
        support=stage / "support",
        font_cache=font_cache,
        proxy_dir=proxy_dir,
        ca_bundle=ca_bundle,
        read_only_mounts=tuple(
            (stage / f"mount-{index}", inside)
            for index, (_host, inside) in enumerate(layout.read_only_mounts)
        ),
        workspace_read_only=layout.workspace_read_only,
    )
    return staged, parts


def sandbox_rlimits(limits: Limits) -> dict[launcher.RlimitName, launcher.Rlimit]:
    """Per-process limits from the seed (`--ulimit nofile=100 --ulimit nproc=50`)."""
    return {
        "nofile": (limits.open_files, limits.open_files),
        "nproc": (limits.pids, limits.pids),
        "fsize": (limits.file_size_bytes, limits.file_size_bytes),
    }


class BubblewrapSandbox(AgentSandbox):
    """One running bwrap sandbox: its holder is the launcher's process. Made by `start`."""

    def __init__(
        self,
        spec: SandboxSpec,
        cgroup: cgroups.SandboxCgroup,
        agent_leaf: cgroups.Leaf,
        uid: int,
        gid: int,
        process: asyncio.subprocess.Process,
        channel: AgentChannel,
        on_end: Callable[[AgentSandbox], None],
    ) -> None:
        self.uid = uid
        self.gid = gid  # the workspace's (`GroupPool`), held until this sandbox ends
        self._process = process
        super().__init__(spec, channel, cgroup, agent_leaf, on_end)

    async def _exited(self) -> None:
        await self._process.wait()

    async def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._process.kill()

    async def _read_stats(self) -> SandboxStats:
        raw = await asyncio.to_thread(self.cgroup.stats)
        return self._stats_from(
            memory=raw.memory_bytes,
            memory_limit=raw.memory_limit_bytes,
            cpu_ns=raw.cpu_usage_ns,
            pids=raw.pids,
            pids_limit=raw.pids_limit,
            ooms=raw.oom_kills,
        )

    async def why_not_started(self) -> str:
        return await _read_bounded(self._process)


class BubblewrapBackend(AgentBackend[BubblewrapSandbox]):
    """Starts sandboxes with bubblewrap; see the module docstring."""

    name = "bubblewrap"

    def __init__(
        self,
        *,
        rootfs: Path,
        state_dir: Path,
        driver: cgroups.CgroupDriver,
        uids: UidPool,
        gids: GroupPool,
        font_cache: Path | None = None,
        proxy: PackageProxy | None = None,
        ca_bundle: Path | None = None,
        stage_dir: Path,
    ) -> None:
        super().__init__(driver=driver, font_cache=font_cache, proxy=proxy, ca_bundle=ca_bundle)
        self.rootfs = rootfs
        self.state_dir = state_dir
        # The launcher mounts each sandbox's parts over it (`staged_layout`): the
        # server's data directory. Only its parents must be searchable by the
        # sandboxes' uids; it may itself be 0700.
        self.stage_dir = stage_dir
        self.uids = uids
        self.gids = gids
        self.launcher = launcher.ensure_launcher(state_dir / "bin")
        self._seccomp = seccomp_filter()

    async def start(self, spec: SandboxSpec) -> BubblewrapSandbox:
        cgroup = await asyncio.to_thread(
            self.driver.create_sandbox,
            spec.sandbox_id,
            spec.limits,
            cgroups.user_group(spec.owner),
        )
        uid = self.uids.take()
        try:
            gid = self.gids.take(str(spec.workspace_dir), spec.sandbox_id)
            agent_leaf = await asyncio.to_thread(cgroup.leaf, "agent")
            workspace_fd = await asyncio.to_thread(open_workspace, spec.workspace_dir)
            mount_fds: list[int] = []
            try:
                for host, _inside in spec.read_only_mounts:
                    mount_fds.append(await asyncio.to_thread(open_mount, host))
                proxy_dir = await self._attach_proxy(spec, owner_uid=uid)
                await asyncio.to_thread(
                    hand_over, workspace_fd, uid, gid, share=spec.share_workspace
                )
                sandbox = await self._launch(
                    spec, cgroup, agent_leaf, (uid, gid), (workspace_fd, *mount_fds), proxy_dir
                )
            finally:
                for fd in (workspace_fd, *mount_fds):
                    os.close(fd)
            return await self._adopt(sandbox)
        except BaseException:
            self._detach_proxy(spec.sandbox_id)
            self.uids.give_back(uid)
            self.gids.give_back(spec.sandbox_id)
            with contextlib.suppress(OSError, cgroups.CgroupError):
                await asyncio.to_thread(cgroup.remove)
            raise

    async def _launch(
        self,
        spec: SandboxSpec,
        cgroup: cgroups.SandboxCgroup,
        leaf: cgroups.Leaf,
        ids: tuple[int, int],
        dir_fds: tuple[int, ...],
        proxy_dir: Path | None,
    ) -> BubblewrapSandbox:
        """Start bwrap as host `ids` (uid, gid); `dir_fds`: the workspace's descriptor,
        then each read-only mount's."""
        uid, gid = ids
        workspace_fd, *mount_fds = dir_fds
        host_end, sandbox_end = socket_pair()
        seccomp_fd = os.memfd_create("sandpit-seccomp", 0)
        args_r, args_w = os.pipe()
        part_fds: list[int] = []
        try:
            os.write(seccomp_fd, self._seccomp)
            os.lseek(seccomp_fd, 0, os.SEEK_SET)
            layout, parts = staged_layout(
                BwrapLayout(
                    self.rootfs,
                    spec.workspace_dir,
                    INSIDE_DIR,
                    self.font_cache,
                    proxy_dir=proxy_dir,
                    ca_bundle=self.ca_bundle if spec.package_proxy else None,
                    read_only_mounts=spec.read_only_mounts,
                    workspace_read_only=spec.workspace_read_only,
                ),
                self.stage_dir,
            )
            for host, _name in parts:
                part_fds.append(os.open(host, os.O_PATH | os.O_CLOEXEC))
            staged = [
                *zip(part_fds, (name for _host, name in parts), strict=True),
                (workspace_fd, "app"),
                *((fd, f"mount-{index}") for index, fd in enumerate(mount_fds)),
            ]
            args = bwrap_args(
                layout, spec.limits, seccomp_fd=seccomp_fd, agent_fd=sandbox_end.fileno()
            )
            encoded = b"".join(arg.encode() + b"\0" for arg in args)
            argv = launcher.launcher_argv(
                self.launcher,
                [BWRAP, "--args", str(args_r), "--", *AGENT_COMMAND],
                uid=uid,
                gid=gid,
                cgroup_procs=leaf.procs_files,
                rlimits=sandbox_rlimits(spec.limits),
                keep_fds=[seccomp_fd, sandbox_end.fileno(), args_r],
                env={},
                stage=self.stage_dir,
                staged=staged,
            )
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(seccomp_fd, sandbox_end.fileno(), args_r, *dir_fds, *part_fds),
                env={},
                start_new_session=True,
            )
            # The args pipe is small enough to fit the pipe buffer (64 KiB).
            os.write(args_w, encoded)
        finally:
            for fd in part_fds:
                os.close(fd)
            os.close(args_w)
            os.close(args_r)
            os.close(seccomp_fd)
            sandbox_end.close()
        channel = AgentChannel(host_end)
        return BubblewrapSandbox(spec, cgroup, leaf, uid, gid, process, channel, self._ended)

    def _ended(self, sandbox: AgentSandbox) -> None:
        super()._ended(sandbox)
        if isinstance(sandbox, BubblewrapSandbox):
            self.uids.give_back(sandbox.uid)
            self.gids.give_back(sandbox.id)

    async def reap_orphans(self) -> list[str]:
        keep = set(self.sandboxes)
        return await asyncio.to_thread(self.driver.reap, keep)


def open_mount(directory: Path) -> int:
    """A descriptor of a read-only mount's host directory (`SandboxSpec.read_only_mounts`).

    Raises `SandboxError` if it is missing or not a directory.
    """
    try:
        return os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise SandboxError("A directory the sandbox needs is missing; it was not started.") from exc


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
