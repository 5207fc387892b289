"""The contract suite's harness for the Docker backend (see `Harness` in conftest.py).

Runs the real thing: the local Docker engine (`make test` starts dockerd when
it is not running), the runtime image imported into it once per session,
real cgroups under a random test root that is also the containers' cgroup
parent and the label (`org.sandpit.instance`) that marks this harness's
containers, so nothing of another test server or of a real server is touched.

Every container runs as a host uid of its own, from a block of test uids
per backend object (as for bubblewrap); "the sandbox's host processes" are
still found by the sandbox's PID namespace, which catches a process that
changed its uid too.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

from docker import DockerClient

from sandpit.runtime.docker_image import ensure_docker_image
from sandpit.runtime.image import find_image
from sandpit.sandbox import cgroups
from sandpit.sandbox.backends.docker import (
    DockerBackend,
    DockerSandbox,
    connect_engine,
)
from sandpit.sandbox.backends.docker_options import (
    AGENT_MOUNT,
    LABEL_INSTANCE,
    LABEL_SANDBOX,
    MASKED_PATHS,
)
from sandpit.sandbox.base import Sandbox
from sandpit.sandbox.layout import INSIDE_DIR, SUPPORT_MOUNT
from sandpit.sandbox.uids import GroupPool, UidPool
from tests.sandbox.agent_harness import AgentHarness, live_processes
from tests.sandbox.bubblewrap_harness import TEST_GID_OFFSET, UID_BLOCK, take_uid_block


@functools.cache
def engine() -> DockerClient:
    """One client for the session; fails (never skips) when no engine answers."""
    return connect_engine()


@functools.cache
def image_tag(data_dir: Path) -> str:
    """The runtime image in the engine (imported on first use, ~10 s)."""
    image = find_image(data_dir)
    assert image is not None, "the runtime image is not built (make test builds it)"
    return ensure_docker_image(engine(), image)


def pid_namespace(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def processes_in_namespace(namespace: int) -> dict[int, str]:
    """Host pid -> name of every live process in PID namespace `namespace`."""
    return live_processes(lambda pid, _fields: pid_namespace(pid) == namespace)


def processes_in_cgroups_under(root_name: str) -> dict[int, str]:
    """Host pid -> name of every process whose cgroup path runs through `root_name`."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            groups = Path(f"/proc/{entry}/cgroup").read_text()
            name = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:
            continue
        if f"/{root_name}/" in groups:
            found[int(entry)] = name
    return found


class DockerHarness(AgentHarness):
    """Makes `DockerBackend`s on a test cgroup root and label, and inspects what they leave."""

    name = "docker"

    def __init__(self, rootfs: Path, state_dir: Path) -> None:
        super().__init__(rootfs, state_dir)
        self.image = image_tag(rootfs.parent.parent.parent)
        self._namespaces: dict[str, int] = {}

    def make(self) -> DockerBackend:
        """A new backend object (a new "server") on this harness's cgroup root and label."""
        first = take_uid_block()
        return DockerBackend(
            client=connect_engine(),
            image=self.image,
            state_dir=self.state_dir,
            driver=cgroups.detect(self.root_name),
            instance=self.root_name,
            max_sandboxes=32,
            uids=UidPool(first, UID_BLOCK),
            gids=GroupPool(first + TEST_GID_OFFSET, UID_BLOCK),
        )

    def host_uid(self, sandbox: Sandbox) -> int:
        """The host uid the container runs as (uid 1000 inside)."""
        assert isinstance(sandbox, DockerSandbox)
        return sandbox.uid

    def host_processes(self, sandbox: Sandbox) -> dict[int, str]:
        """Every host process in the sandbox's PID namespace, in its cgroup or not.

        The namespace is remembered from the first call, so the question can
        still be asked once the container is gone.
        """
        assert isinstance(sandbox, DockerSandbox)
        namespace = self._namespaces.get(sandbox.id)
        if namespace is None:
            namespace = pid_namespace(sandbox.init_pid)
            if namespace is None:
                return {}
            self._namespaces[sandbox.id] = namespace
        return processes_in_namespace(namespace)

    # The engine mounts the image's root and binds without nosuid (and has no
    # option for it); the image holds no set-id file and no_new_privs is set.
    nosuid_mounts = False

    def engine_files(self, sandbox: Sandbox) -> Path | None:
        """The engine's directory for the container (its hosts, hostname, resolv.conf)."""
        assert isinstance(sandbox, DockerSandbox)
        return Path(engine().info()["DockerRootDir"]) / "containers" / sandbox.container_id

    def expected_binds(self, sandbox: Sandbox, workspace: Path) -> dict[str, str]:
        """The agent's files and socket, the workspace, the engine's per-container files,
        and /dev/null over the /proc files the engine masks (no init: the agent is pid 1)."""
        assert isinstance(sandbox, DockerSandbox)
        engine_files = self.engine_files(sandbox)
        assert engine_files is not None
        binds = {
            "/app": str(workspace),
            SUPPORT_MOUNT: str(INSIDE_DIR),
            AGENT_MOUNT: str(self.state_dir / "docker-agents" / sandbox.id),
        }
        for name in ("resolv.conf", "hostname", "hosts"):
            binds[f"/etc/{name}"] = str(engine_files / name)
        for path in MASKED_PATHS:
            if path.startswith("/proc/") and Path(path).is_file():
                binds[path] = "/null"
        return binds

    def _containers(self, sandbox_id: str | None = None) -> list[str]:
        labels = [f"{LABEL_INSTANCE}={self.root_name}"]
        if sandbox_id is not None:
            labels.append(f"{LABEL_SANDBOX}={sandbox_id}")
        found = engine().containers.list(all=True, filters={"label": labels})
        return [f"{c.name} ({c.status})" for c in found]

    def sandbox_exists_on_host(self, sandbox_id: str) -> bool:
        return bool(self._containers(sandbox_id))

    def leftovers(self) -> list[str]:
        """What this harness's sandboxes left on the host: containers, cgroups, processes."""
        found = [f"container {name}" for name in self._containers()]
        found += [f"cgroup {self.root_name}/{name}" for name in self.driver.list_sandboxes()]
        found += [
            f"process {pid} ({name})"
            for pid, name in processes_in_cgroups_under(self.root_name).items()
        ]
        return found

    def spawn_server(self, workspace: Path, sandbox_id: str) -> subprocess.Popen[bytes]:
        """A separate "server" process that starts sandbox `sandbox_id` with a sleeper in it."""
        args = [self.root_name, self.image, str(self.state_dir), str(workspace), sandbox_id]
        args.append(str(take_uid_block()))
        return subprocess.Popen(
            [sys.executable, "-c", _SERVER_PROGRAM, *args], stdout=subprocess.PIPE
        )

    def close(self) -> None:
        for container in engine().containers.list(
            all=True, filters={"label": f"{LABEL_INSTANCE}={self.root_name}"}
        ):
            container.remove(force=True)
        self.driver.remove_root()


_SERVER_PROGRAM = """
import asyncio, sys
from pathlib import Path
from sandpit.sandbox import cgroups
from sandpit.sandbox.base import ExecRequest, SandboxSpec
from sandpit.sandbox.backends.docker import DockerBackend, connect_engine
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.uids import GroupPool, UidPool

async def main():
    root, image, state, workspace, sandbox_id, first_uid = sys.argv[1:]
    backend = DockerBackend(
        client=connect_engine(), image=image, state_dir=Path(state),
        driver=cgroups.detect(root), instance=root, max_sandboxes=1,
        uids=UidPool(int(first_uid), 1), gids=GroupPool(int(first_uid) + 1_300_000, 1),
    )
    sandbox = await backend.start(SandboxSpec(sandbox_id, "ws", Path(workspace), Limits()))
    await sandbox.exec(ExecRequest(["sleep", "300"], {"PATH": "/usr/bin:/bin"}, "run-left"))
    print("ready", flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""
