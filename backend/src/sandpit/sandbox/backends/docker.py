"""The Docker backend: a sandbox is one container, created with the seed's configuration.

Chosen with `SANDBOX_BACKEND=docker`; the same interface, agent, cgroup
leaves and package proxy as the bubblewrap backend, so users see the same
sandbox. How a sandbox starts (each step for a reason):
1. The sandbox gets a host uid of its own from the server's range (as a
   bubblewrap sandbox does) and the workspace's gid (`uids.GroupPool`), and
   the workspace is handed to them (`ownership.hand_over`). The container
   runs as that uid and gid; its agent maps both to 1000 in a user
   namespace of its own (`docker_options` says why and how).
2. The server listens on a SOCK_SEQPACKET socket in a directory of its own
   for this sandbox, mounted read-only in the container. A container cannot
   inherit a descriptor; this is the one channel between server and agent.
3. The container is created (options: `docker_options.container_options`,
   the seed's `CONTAINER_CONFIG` plus dropped capabilities, our seccomp
   profile and labels) under a cgroup parent of ours, and started: the
   agent is the container's init (pid 1; no `docker-init`, whose memory
   would be open to user code), makes its user namespace, drops its
   capabilities, loads the seccomp filter (`seccomp.bpf` in its directory)
   and only then connects.
4. The server takes exactly that one connection (checked: its peer is the
   container's init), then removes the socket, so nothing in the
   container can connect later and pose as the agent.
5. The container's cgroup is adopted: its init, the agent, moves into an
   `agent` leaf, and runs and terminals get leaves beside it, exactly as in
   a bubblewrap sandbox (`agent_process.exec_via_agent`). The engine's
   limits on the container cgroup cover every leaf.
Runs and terminals are processes the agent forks inside the container (the
`docker exec` of the architecture): the engine's exec API cannot hand over
descriptors, which a run's code and plot channel travel by, and costs a
round of API calls per process. A run's timeout kills its leaf, everything
it started included; the sandbox's lifetime limit or a stop kills the
container by id. Stats come from the engine; OOM kills from the cgroup.

The Docker SDK is synchronous: every call runs in a worker thread. The
engine is the local one (`DOCKER_HOST` or its socket); its socket is never
mounted into a container.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker import DockerClient
from docker.models.containers import Container

from sandpit.proxy.server import PackageProxy
from sandpit.sandbox import cgroups
from sandpit.sandbox.agent_sandbox import AgentBackend, AgentSandbox
from sandpit.sandbox.backends.docker_options import (
    AGENT_SECCOMP,
    LABEL_INSTANCE,
    LABEL_SANDBOX,
    ContainerLayout,
    ContainerSpec,
    container_options,
)
from sandpit.sandbox.base import SandboxError, SandboxSpec, SandboxStats
from sandpit.sandbox.channel import AgentChannel
from sandpit.sandbox.layout import INSIDE_DIR, START_TIMEOUT_S
from sandpit.sandbox.ownership import hand_over, open_workspace
from sandpit.sandbox.seccomp import docker_profile, seccomp_filter
from sandpit.sandbox.uids import GroupPool, UidPool

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
# How long a caller waits to learn why a container the engine no longer has ended.
ENDED_NOTICE_S = 2.0


@dataclass(frozen=True)
class _Started:
    container: Container
    init_pid: int
    channel: AgentChannel
    cgroup: cgroups.SandboxCgroup
    agent_leaf: cgroups.Leaf


class DockerSandbox(AgentSandbox):
    """One running container: its holder is the container. Made by `DockerBackend.start`."""

    def __init__(
        self,
        spec: SandboxSpec,
        client: DockerClient,
        started: _Started,
        agent_dir: Path,
        ids: tuple[int, int],
        on_end: Callable[[AgentSandbox], None],
    ) -> None:
        self.container_id: str = started.container.id or ""
        # The host uid and gid the container runs as (1000 inside); the gid is
        # the workspace's (`GroupPool`), held until this sandbox ends.
        self.uid, self.gid = ids
        self.init_pid = started.init_pid
        self._client = client
        self._agent_dir = agent_dir
        super().__init__(spec, started.channel, started.cgroup, started.agent_leaf, on_end)

    async def _read_stats(self) -> SandboxStats:
        """Usage from the engine's stats (one sample), OOM kills from the cgroup."""
        try:
            raw: dict[str, Any] = await asyncio.to_thread(
                self._client.api.stats, self.container_id, stream=False, one_shot=True
            )
        except docker.errors.NotFound as exc:
            raise SandboxError(await self._ended_sentence()) from exc
        except docker.errors.APIError as exc:
            raise SandboxError("The sandbox's usage could not be read.") from exc
        memory = raw.get("memory_stats") or {}
        cpu = (raw.get("cpu_stats") or {}).get("cpu_usage") or {}
        pids = raw.get("pids_stats") or {}
        oom_kills = 0
        with contextlib.suppress(OSError, cgroups.CgroupError):
            oom_kills = (await asyncio.to_thread(self.cgroup.stats)).oom_kills
        return self._stats_from(
            memory=int(memory.get("usage") or 0),
            memory_limit=int(memory.get("limit") or 0),
            cpu_ns=int(cpu.get("total_usage") or 0),
            pids=int(pids.get("current") or 0),
            pids_limit=int(pids.get("limit") or 0),
            ooms=oom_kills,
        )

    async def _ended_sentence(self) -> str:
        """Why the sandbox ended, once that is noticed: the engine can forget a container first."""
        try:
            return (await asyncio.wait_for(self.wait_ended(), ENDED_NOTICE_S)).sentence()
        except TimeoutError:
            return "The sandbox has ended."

    async def _exited(self) -> None:
        # The agent is the container's init: when the container ends, the
        # channel closes; when the agent dies, so does the container. Either
        # way the channel closing is the end.
        await self.channel.closed.wait()

    async def _kill(self) -> None:
        # By id: the engine removes it (auto-remove).
        await asyncio.to_thread(_kill_container, self._client, self.container_id)

    async def _release(self) -> None:
        await asyncio.to_thread(_kill_container, self._client, self.container_id)
        await asyncio.to_thread(_wait_removed, self._client, self.container_id)
        shutil.rmtree(self._agent_dir, ignore_errors=True)

    async def why_not_started(self) -> str:
        return await asyncio.to_thread(_state_of, self._client, self.container_id)


class DockerBackend(AgentBackend[DockerSandbox]):
    """Starts sandboxes as Docker containers; see the module docstring."""

    name = "docker"

    def __init__(
        self,
        *,
        client: DockerClient,
        image: str,
        state_dir: Path,
        driver: cgroups.CgroupDriver,
        instance: str,
        max_sandboxes: int,
        uids: UidPool,
        gids: GroupPool,
        font_cache: Path | None = None,
        proxy: PackageProxy | None = None,
        ca_bundle: Path | None = None,
    ) -> None:
        super().__init__(driver=driver, font_cache=font_cache, proxy=proxy, ca_bundle=ca_bundle)
        self.client = client
        self.image = image
        self.state_dir = state_dir
        # Labels every container of this server, so a restarted server reaps
        # its own containers and never another server's.
        self.instance = instance
        self.max_sandboxes = max_sandboxes
        self.uids = uids
        self.gids = gids
        self._profile = docker_profile(agent_user_namespace=True)
        self._filter = seccomp_filter()
        self._agents_dir = state_dir / "docker-agents"
        self._agents_dir.mkdir(parents=True, exist_ok=True, mode=0o711)

    async def cgroup_parent(self, spec: SandboxSpec) -> str:
        """Where the engine puts the container's cgroup: beneath our driver's root, so leaves
        are ours; in its owner's cgroup, made now, for a user's sandbox (see
        `cgroups.CgroupDriver`)."""
        group = cgroups.user_group(spec.owner)
        if group is None:
            return "/" + "/".join(self.driver.root_parts)
        # Should the user's last other sandbox end and remove the group before the
        # engine creates the container, the engine makes it again, without its CPU
        # limit until the user's next start: never wider than the root's.
        await asyncio.to_thread(self.driver.open_group, group, spec.limits.cpus)
        return self.driver.group_path(group)

    async def start(self, spec: SandboxSpec) -> DockerSandbox:
        if len(self.sandboxes) >= self.max_sandboxes:
            raise SandboxError("Too many sandboxes are running; try again in a minute.")
        agent_dir = self._agents_dir / spec.sandbox_id
        listener: socket.socket | None = None
        uid = self.uids.take()
        try:
            gid = self.gids.take(str(spec.workspace_dir), spec.sandbox_id)
            workspace_fd = await asyncio.to_thread(open_workspace, spec.workspace_dir)
            try:
                await asyncio.to_thread(
                    hand_over, workspace_fd, uid, gid, share=spec.share_workspace
                )
            finally:
                os.close(workspace_fd)
            listener = _listen(agent_dir, uid, self._filter)
            proxy_dir = await self._attach_proxy(spec, owner_uid=uid)
            started = await self._launch(spec, agent_dir, listener, proxy_dir, (uid, gid))
        except BaseException:
            self._detach_proxy(spec.sandbox_id)
            shutil.rmtree(agent_dir, ignore_errors=True)
            self.uids.give_back(uid)
            self.gids.give_back(spec.sandbox_id)
            raise
        finally:
            if listener is not None:
                listener.close()
        sandbox = DockerSandbox(spec, self.client, started, agent_dir, (uid, gid), self._ended)
        return await self._adopt(sandbox)

    def _ended(self, sandbox: AgentSandbox) -> None:
        super()._ended(sandbox)
        if isinstance(sandbox, DockerSandbox):
            self.uids.give_back(sandbox.uid)
            self.gids.give_back(sandbox.id)

    async def _launch(
        self,
        spec: SandboxSpec,
        agent_dir: Path,
        listener: socket.socket,
        proxy_dir: Path | None,
        ids: tuple[int, int],
    ) -> _Started:
        layout = ContainerLayout(
            image=self.image,
            name=f"sandpit-{secrets.token_hex(8)}",
            instance=self.instance,
            workspace=spec.workspace_dir,
            support=INSIDE_DIR,
            agent_dir=agent_dir,
            cgroup_parent=await self.cgroup_parent(spec),
            proxy_dir=proxy_dir,
            ca_bundle=self.ca_bundle if spec.package_proxy else None,
            font_cache=self.font_cache,
            read_only_mounts=spec.read_only_mounts,
            workspace_read_only=spec.workspace_read_only,
        )
        container_spec = container_options(
            layout,
            spec.limits,
            sandbox_id=spec.sandbox_id,
            workspace_id=spec.workspace_id,
            seccomp_profile=self._profile,
            host_uid=ids[0],
            host_gid=ids[1],
        )
        try:
            container = await asyncio.to_thread(_run_container, self.client, container_spec)
        except docker.errors.DockerException as exc:
            log.error("sandbox %s: the engine refused the container: %s", spec.sandbox_id, exc)
            raise SandboxError(
                "The sandbox could not be started; the error has been logged."
            ) from exc
        try:
            return await self._connect(container, listener)
        except BaseException:
            await asyncio.to_thread(_kill_container, self.client, container.id or "")
            raise

    async def _connect(self, container: Container, listener: socket.socket) -> _Started:
        loop = asyncio.get_running_loop()
        listener_path = listener.getsockname()
        try:
            sock, _ = await asyncio.wait_for(loop.sock_accept(listener), START_TIMEOUT_S)
        except TimeoutError:
            logs = await asyncio.to_thread(_state_of, self.client, container.id or "")
            log.error("container %s: the agent did not connect (%s)", container.id, logs)
            raise SandboxError("The sandbox did not start in time.") from None
        finally:
            # One connection only: nothing in the container may connect later.
            # The agent loaded its filter before connecting; the file goes too.
            listener.close()
            for path in (listener_path, Path(listener_path).with_name(Path(AGENT_SECCOMP).name)):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        try:
            await asyncio.to_thread(container.reload)
            init_pid = int(container.attrs["State"]["Pid"])
            peer_pid = _peer_pid(sock)
            if init_pid <= 0 or peer_pid != init_pid:
                raise SandboxError("The sandbox's agent could not be verified.")
            cgroup = self.driver.open_sandbox(container.id or "")
            if cgroup is None:
                raise SandboxError("The sandbox's cgroup was not where the engine should put it.")
            agent_leaf = await asyncio.to_thread(cgroup.gather, "agent")
        except BaseException:
            sock.close()
            raise
        sock.setblocking(False)
        return _Started(container, init_pid, AgentChannel(sock), cgroup, agent_leaf)

    async def reap_orphans(self) -> list[str]:
        """Remove this server's containers that no live sandbox owns, and their cgroups."""
        keep = {s.container_id for s in self.sandboxes.values()}
        containers = await asyncio.to_thread(
            self.client.containers.list,
            all=True,
            filters={"label": f"{LABEL_INSTANCE}={self.instance}"},
        )
        reaped: list[str] = []
        for container in containers:
            if container.id in keep:
                continue
            await asyncio.to_thread(_kill_container, self.client, container.id or "")
            await asyncio.to_thread(_wait_removed, self.client, container.id or "")
            reaped.append(container.labels.get(LABEL_SANDBOX, container.id or ""))
        await asyncio.to_thread(self.driver.reap, keep)
        live = {s.id for s in self.sandboxes.values()}
        for entry in self._agents_dir.iterdir():
            if entry.name not in live:
                shutil.rmtree(entry, ignore_errors=True)
        return reaped

    async def close(self) -> None:
        await super().close()
        self.client.close()


def _run_container(client: DockerClient, spec: ContainerSpec) -> Container:
    """Create and start the container; return it once it runs."""
    host_config = client.api.create_host_config(**spec.host)
    host_config.update(spec.host_raw)
    created = client.api.create_container(host_config=host_config, **spec.create)
    container_id = str(created["Id"])
    try:
        client.api.start(container_id)
        return client.containers.get(container_id)
    except BaseException:
        _kill_container(client, container_id)
        raise


def _listen(agent_dir: Path, uid: int, seccomp_program: bytes) -> socket.socket:
    """A fresh directory with a socket only the container's `uid` may connect to,
    listening, and the seccomp filter its agent loads."""
    shutil.rmtree(agent_dir, ignore_errors=True)
    agent_dir.mkdir(mode=0o755)
    program = agent_dir / Path(AGENT_SECCOMP).name
    program.write_bytes(seccomp_program)
    program.chmod(0o644)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        path = agent_dir / "agent.sock"
        listener.bind(str(path))
        os.chown(path, uid, uid)
        os.chmod(path, 0o600)
        listener.listen(1)
        listener.setblocking(False)
    except BaseException:
        listener.close()
        raise
    return listener


def _peer_pid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, _uid, _gid = struct.unpack("3i", creds)
    return int(pid)


def _kill_container(client: DockerClient, container_id: str) -> None:
    """Kill and remove the container by id; nothing if it is already gone."""
    if not container_id:
        return
    try:
        client.api.remove_container(container_id, force=True)
    except docker.errors.APIError as exc:
        # 404: already gone; 409: the engine's auto-removal is under way.
        if exc.status_code not in (404, 409):
            log.error("container %s could not be removed: %s", container_id, exc)


def _wait_removed(client: DockerClient, container_id: str) -> None:
    """Wait (bounded) until the engine has removed the container."""
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            client.api.inspect_container(container_id)
        except docker.errors.APIError:  # NotFound: removed; anything else: nothing to wait for
            return
        time.sleep(0.05)
    log.error("container %s was not removed within %s s", container_id, STOP_TIMEOUT_S)


def _state_of(client: DockerClient, container_id: str) -> str:
    try:
        state = client.api.inspect_container(container_id)["State"]
    except docker.errors.APIError as exc:
        return str(exc)
    return f"status {state.get('Status')}, exit {state.get('ExitCode')}, {state.get('Error')}"


def engine_problem(info: dict[str, Any]) -> str | None:
    """What makes the engine described by `docker info` unusable here, as a sentence; or None.

    Leaves are made under each container's cgroup, which must therefore lie
    beneath our cgroup root: only the cgroupfs driver puts it there.
    """
    driver = info.get("CgroupDriver")
    if driver != "cgroupfs":
        return (
            f"The Docker engine uses the {driver!r} cgroup driver; the Docker backend needs"
            " 'cgroupfs' (start dockerd with --exec-opt native.cgroupdriver=cgroupfs)."
        )
    return None


def connect_engine(base_url: str | None = None, timeout_s: float = 30.0) -> DockerClient:
    """A client for the engine at `base_url` (None: `DOCKER_HOST` or the local socket).

    Raises `SandboxError` with a sentence if none answers.
    """
    try:
        if base_url is None:
            client = docker.from_env(timeout=int(timeout_s))
        else:
            client = DockerClient(base_url=base_url, timeout=int(timeout_s))
        client.ping()
    except docker.errors.DockerException as exc:
        raise SandboxError(
            f"The Docker engine does not answer ({exc}); start dockerd, or choose"
            " SANDBOX_BACKEND=bubblewrap."
        ) from exc
    return client
