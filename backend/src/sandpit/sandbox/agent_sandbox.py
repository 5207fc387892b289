"""The lifecycle every agent-driven sandbox shares, whatever holds it.

A backend whose sandboxes run our agent (bubblewrap, Docker; Kubernetes
next) differs only in how the sandbox's init is started, watched and killed.
Everything else is the same and lives here once, in the manner of
JupyterHub's `Spawner`: the sandbox's end (a future set exactly once, with
the reason), processes and listening sockets through the agent's channel,
`stop` (kill the whole cgroup first, then the holder), the start-up ping,
the package proxy's attachment and its forwarder, and shutdown.

Legal states of an `AgentSandbox`: running → ended. `_watch_exit` is the
only place that ends one: it waits for the holder to exit (`_exited`),
closes the channel, lets the backend release what it holds (`_release`),
removes the cgroup, tells the backend (`on_end`) and only then publishes
the reason, so a caller of `wait_ended` sees a sandbox whose resources are
all gone. `sandbox/base.py`'s protocols stay the public contract; these
classes are how two (soon three) backends keep it without repeating it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from sandpit.proxy.server import PackageProxy
from sandpit.sandbox import cgroups, proxy_bridge
from sandpit.sandbox.agent_process import AgentProcess, exec_via_agent
from sandpit.sandbox.agent_spare import Spares
from sandpit.sandbox.base import EndReason, ExecRequest, SandboxError, SandboxSpec, SandboxStats
from sandpit.sandbox.channel import AgentChannel
from sandpit.sandbox.layout import START_TIMEOUT_S, SUPPORT_MOUNT

log = logging.getLogger(__name__)

NOT_STARTED = "The sandbox could not be started; the error has been logged."


class AgentSandbox(ABC):
    """One running sandbox whose processes the agent starts; see the module docstring.

    A subclass sets its own attributes, then calls `super().__init__`, which
    starts watching for the end.
    """

    def __init__(
        self,
        spec: SandboxSpec,
        channel: AgentChannel,
        cgroup: cgroups.SandboxCgroup,
        agent_leaf: cgroups.Leaf,
        on_end: Callable[[AgentSandbox], None],
    ) -> None:
        self.id = spec.sandbox_id
        self.workspace_id = spec.workspace_id
        self.limits = spec.limits
        self.package_proxy = spec.package_proxy
        self.started_at = time.time()
        self.channel = channel
        self.cgroup = cgroup
        self._agent_leaf = agent_leaf
        # Warm runs' processes, confined ahead of their runs (`agent_spare`).
        self._spares = Spares(cgroup, agent_leaf)
        channel.spares = self._spares
        self._on_end = on_end
        loop = asyncio.get_running_loop()
        self._ended: asyncio.Future[EndReason] = loop.create_future()
        self._stop_reason: EndReason | None = None
        self._watch = loop.create_task(self._watch_exit())

    @property
    def ended_reason(self) -> EndReason | None:
        return self._ended.result() if self._ended.done() else None

    def _raise_if_ended(self) -> None:
        if self._ended.done():
            raise SandboxError(self._ended.result().sentence())

    async def exec(self, request: ExecRequest) -> AgentProcess:
        self._raise_if_ended()
        return await exec_via_agent(
            self.channel, self.cgroup, self._agent_leaf, request, self._spares
        )

    async def listen(self, host: str, port: int) -> socket.socket:
        self._raise_if_ended()
        return await self.channel.listen(host, port)

    async def stats(self) -> SandboxStats:
        self._raise_if_ended()
        return await self._read_stats()

    def _stats_from(
        self,
        *,
        memory: int,
        memory_limit: int | None,
        cpu_ns: int,
        pids: int,
        pids_limit: int | None,
        ooms: int,
    ) -> SandboxStats:
        """A `SandboxStats` from raw readings; a limit of 0 or None means the configured one."""
        return SandboxStats(
            memory_bytes=memory,
            memory_limit_bytes=memory_limit or self.limits.memory_bytes,
            cpu_seconds=cpu_ns / 1e9,
            cpus=self.limits.cpus,
            pids=pids,
            pids_limit=pids_limit or self.limits.pids,
            oom_kills=ooms,
            started_at=self.started_at,
            expires_at=self.started_at + self.limits.lifetime_s,
        )

    async def stop(self, reason: EndReason = EndReason.STOPPED) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        # Kill by cgroup first (every leaf at once): daemons that left the
        # process tree are still in the cgroup, and nothing may outlive the
        # sandbox. Then the holder, whose exit ends the watch.
        with contextlib.suppress(OSError, cgroups.CgroupError):
            await asyncio.to_thread(self.cgroup.kill_all)
        await self._kill()
        await self.wait_ended()

    async def wait_ended(self) -> EndReason:
        return await asyncio.shield(self._ended)

    async def _watch_exit(self) -> None:
        await self._exited()
        self._spares.close()
        self.channel.close()
        await self._release()
        with contextlib.suppress(OSError, cgroups.CgroupError):
            await asyncio.to_thread(self.cgroup.remove)
        self._on_end(self)
        self._ended.set_result(self._stop_reason or EndReason.CRASHED)

    @abstractmethod
    async def _exited(self) -> None:
        """Return when the sandbox's holder (bwrap, the container) has ended."""

    @abstractmethod
    async def _kill(self) -> None:
        """Kill the holder; a no-op if it has already ended."""

    @abstractmethod
    async def _read_stats(self) -> SandboxStats:
        """Usage against the limits now; the sandbox is running."""

    async def _release(self) -> None:  # noqa: B027 - a hook; most holders leave nothing
        """Release what the holder left behind, after it ended (before the cgroup goes)."""

    async def why_not_started(self) -> str:
        """For the log, when the agent did not answer its first ping: what the holder said."""
        return ""


SandboxT = TypeVar("SandboxT", bound=AgentSandbox)


class AgentBackend(ABC, Generic[SandboxT]):
    """What the agent-driven backends share: their live sandboxes, the proxy, shutdown."""

    name: str

    def __init__(
        self,
        *,
        driver: cgroups.CgroupDriver,
        font_cache: Path | None,
        proxy: PackageProxy | None,
        ca_bundle: Path | None,
    ) -> None:
        self.driver = driver
        self.font_cache = font_cache
        # Package proxy: each sandbox gets a socket on it and a forwarder.
        self.proxy = proxy
        self.ca_bundle = ca_bundle
        self.sandboxes: dict[str, SandboxT] = {}
        self._forwarders = proxy_bridge.Forwarders(SUPPORT_MOUNT)

    async def _attach_proxy(self, spec: SandboxSpec, owner_uid: int) -> Path | None:
        """Give the sandbox its socket on the package proxy; return the socket's directory.

        None (nothing attached) without a proxy or for a spec without `package_proxy`.
        """
        if self.proxy is None or not spec.package_proxy:
            return None
        await self.proxy.attach(
            spec.sandbox_id, spec.workspace_id, owner_uid=owner_uid, owner=spec.owner
        )
        endpoint = self.proxy.endpoints.get(spec.sandbox_id)
        return endpoint.directory if endpoint is not None else None

    def _detach_proxy(self, sandbox_id: str) -> None:
        if self.proxy is not None:
            self.proxy.detach(sandbox_id)

    async def _adopt(self, sandbox: SandboxT) -> SandboxT:
        """Wait for the new sandbox's agent to answer, then serve it as live.

        Raises `SandboxError` (the sandbox stopped, the cause logged) if the
        agent does not answer within `START_TIMEOUT_S`.
        """
        try:
            await sandbox.channel.ping(START_TIMEOUT_S)
        except SandboxError:
            said = await sandbox.why_not_started()
            await sandbox.stop(EndReason.CRASHED)
            log.error("sandbox %s failed to start: %s", sandbox.id, said)
            raise SandboxError(NOT_STARTED) from None
        self.sandboxes[sandbox.id] = sandbox
        if self.proxy is not None and sandbox.package_proxy:
            await self._forwarders.start(sandbox)
        return sandbox

    def _ended(self, sandbox: AgentSandbox) -> None:
        """A sandbox's `on_end`: forget it and everything attached to it."""
        self.sandboxes.pop(sandbox.id, None)
        self._detach_proxy(sandbox.id)
        self._forwarders.stop(sandbox.id)

    @abstractmethod
    async def start(self, spec: SandboxSpec) -> SandboxT:
        """Start a sandbox. Raises `SandboxError` with a sentence if it cannot."""

    @abstractmethod
    async def reap_orphans(self) -> list[str]:
        """Kill and remove every sandbox a previous server process left; return their ids."""

    async def close(self) -> None:
        """Stop every sandbox this backend started (server shutdown)."""
        await asyncio.gather(
            *(s.stop(EndReason.SHUTDOWN) for s in list(self.sandboxes.values())),
            return_exceptions=True,
        )
        if self.proxy is not None:
            await self.proxy.close()
