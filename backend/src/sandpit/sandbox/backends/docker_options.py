"""The Docker container a sandbox is: its create options, built by a pure function.

The seed's `CONTAINER_CONFIG` and flags, option by option (tested literally
in tests/sandbox/test_docker_options.py):

    read_only           True: the image is the read-only root
    security_opt        no-new-privileges, plus our seccomp profile (the rules
                        the bubblewrap backend loads; `seccomp.docker_profile`)
    mem_limit           512m   \\  memory with no swap
    memswap_limit       512m   /
    nano_cpus           1 CPU  (the seed's `cpu_count`/`--cpus=1`; `cpu_count`
                        is a Windows-only option in the Docker API)
    pids_limit          50
    ulimits             nofile=100, nproc=50, fsize as bubblewrap
    network_mode        none: loopback only; pip goes through the package
                        proxy's socket, mounted read-only (see sandbox/proxy_bridge.py)
    user                1000:1000 inside; on the host, a uid of its own and
                        the workspace's gid (below)
    working_dir         /app, the workspace bound there read-write
    environment         HOME=/app, PYTHONPATH=/app (and PATH, LANG, the agent's socket)
    auto_remove         True; random names (`sandpit-<random hex>`)
    detach              True
    tmpfs               /tmp sized, nosuid, nodev (exec allowed, as on a
                        normal machine: pip builds and runs things there)

and beyond the seed: every capability dropped, no `init` (the agent is
PID 1 and reaps orphans, as in a bubblewrap sandbox; the engine's init would
run as the sandbox user and be dumpable, its memory open to user code
through /proc/1/mem), a private IPC namespace, /sys masked (bubblewrap mounts
none), IPv6 on loopback (as bubblewrap has it), no log driver (the agent says
nothing worth keeping, and a log must not grow on the host), and labels that
let a restarted server find and reap its containers. The Docker socket is
never mounted, nothing runs privileged, and the environment is built here,
never copied from the server's.

The user: the engine (20.10) has no user namespace per container, and
its `userns-remap` maps every container to the same range, so uid 1000
would be one host uid shared by every sandbox (and by a host login user
1000, if there is one). The kernel counts RLIMIT_NPROC, pending signals,
inotify and epoll watches, pipe buffer pages and message queue bytes per
host uid across containers, so one sandbox could exhaust them for all (a
fork bomb at `nproc=50` would stop every other sandbox forking). So each
container is started as a host uid of its own (`host_uid`, from the
server's `SANDBOX_UID_BASE` range, like a bubblewrap sandbox's) with the
workspace's own gid (`host_gid`, from `SANDBOX_GID_BASE`: every sandbox on
the workspace has it, the workspace's files belong to it, nothing else on
the host has it), and its first process, the agent, makes a user namespace
mapping that uid and that gid to 1000 and nothing else, then drops every capability it has there
and loads the sandbox's seccomp filter on top of the profile, before any
other process exists (`inside/agent.py`; `SANDPIT_USERNS_ID`,
`SANDPIT_AGENT_SECCOMP`). User code is uid 1000 as the contract says, and
the host's root-owned files show as `nobody`, as in a bubblewrap sandbox.
The profile leaves the agent exactly `unshare(CLONE_NEWUSER)`
(`seccomp.docker_profile(agent_user_namespace=True)`); the filter the agent
loads refuses every unshare again. nproc is the seed's 50: it counts this
sandbox's uid only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.types import LogConfig, Mount, Ulimit

from sandpit.sandbox import proxy_bridge
from sandpit.sandbox.layout import AGENT_COMMAND, SANDBOX_UID, SUPPORT_MOUNT
from sandpit.sandbox.limits import Limits

AGENT_MOUNT = "/run/sandpit-agent"
AGENT_SOCKET = f"{AGENT_MOUNT}/agent.sock"
# The seccomp filter (classic BPF) the agent loads once it has its user namespace.
AGENT_SECCOMP = f"{AGENT_MOUNT}/seccomp.bpf"
MATPLOTLIB_DIR = "/tmp/.matplotlib"  # noqa: S108 - inside the container's own tmpfs
MATPLOTLIB_DIR_BYTES = 16 * 1024 * 1024
CONTAINER_PATH = "/usr/local/bin:/usr/bin:/bin"

LABEL_SANDBOX = "org.sandpit.sandbox"
LABEL_WORKSPACE = "org.sandpit.workspace"
LABEL_INSTANCE = "org.sandpit.instance"


@dataclass(frozen=True)
class ContainerLayout:
    """Host paths and names one container is made of."""

    image: str
    name: str
    instance: str
    workspace: Path
    support: Path
    agent_dir: Path
    cgroup_parent: str
    proxy_dir: Path | None = None
    ca_bundle: Path | None = None
    font_cache: Path | None = None
    # Extra host directories, read-only: (host dir, mount point under /run).
    read_only_mounts: tuple[tuple[Path, str], ...] = ()
    workspace_read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """A container, in the three parts the Docker API takes it in.

    `create`: arguments of `APIClient.create_container` (but `host_config`);
    `host`: arguments of `APIClient.create_host_config`; `host_raw`: HostConfig
    fields the SDK has no argument for, added to it as they are.
    """

    create: dict[str, Any]
    host: dict[str, Any]
    host_raw: dict[str, Any]


# The engine's own defaults (moby oci/defaults.go), which a container's list
# replaces; /sys joins them: bubblewrap mounts no /sys, and nothing in it
# (the host's devices, its cgroup tree) is the sandbox's business.
MASKED_PATHS = (
    "/sys",
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
)
READONLY_PATHS = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)


def container_options(
    layout: ContainerLayout,
    limits: Limits,
    *,
    sandbox_id: str,
    workspace_id: str,
    seccomp_profile: dict[str, Any],
    host_uid: int,
    host_gid: int,
) -> ContainerSpec:
    """The container of one sandbox, run as `host_uid`:`host_gid` (see the module docstring)."""
    host_user = f"{host_uid}:{host_gid}"
    mounts = [
        Mount("/app", str(layout.workspace), type="bind", read_only=layout.workspace_read_only),
        Mount(SUPPORT_MOUNT, str(layout.support), type="bind", read_only=True),
        Mount(AGENT_MOUNT, str(layout.agent_dir), type="bind", read_only=True),
    ]
    tmpfs = {"/tmp": _tmpfs_options(limits.tmp_bytes)}  # noqa: S108 - the container's own
    if layout.font_cache is not None:
        # matplotlib wants a writable config dir with the prebuilt font list in
        # it (saves ~200 ms on the first import); the engine would make the
        # mount point root's, so the dir is a small tmpfs of the sandbox user.
        tmpfs[MATPLOTLIB_DIR] = _tmpfs_options(MATPLOTLIB_DIR_BYTES, owner=host_user)
        target = f"{MATPLOTLIB_DIR}/{layout.font_cache.name}"
        mounts.append(Mount(target, str(layout.font_cache), type="bind", read_only=True))
    if layout.proxy_dir is not None:
        mounts.append(
            Mount(proxy_bridge.PROXY_MOUNT, str(layout.proxy_dir), type="bind", read_only=True)
        )
    if layout.ca_bundle is not None:
        mounts.append(
            Mount(proxy_bridge.CA_MOUNT, str(layout.ca_bundle), type="bind", read_only=True)
        )
    for source, target in layout.read_only_mounts:
        mounts.append(Mount(target, str(source), type="bind", read_only=True))
    create = {
        "image": layout.image,
        "command": AGENT_COMMAND,
        "name": layout.name,
        "hostname": "sandpit",
        "detach": True,
        "user": host_user,
        "working_dir": "/app",
        "environment": {
            "HOME": "/app",
            "PYTHONPATH": "/app",
            "PATH": CONTAINER_PATH,
            "LANG": "C.UTF-8",
            "SANDPIT_AGENT_SOCKET": AGENT_SOCKET,
            "SANDPIT_USERNS_ID": str(SANDBOX_UID),
            "SANDPIT_AGENT_SECCOMP": AGENT_SECCOMP,
        },
        "labels": {
            LABEL_SANDBOX: sandbox_id,
            LABEL_WORKSPACE: workspace_id,
            LABEL_INSTANCE: layout.instance,
        },
    }
    host = {
        "auto_remove": True,
        "read_only": True,
        "init": False,
        "network_mode": "none",
        # IPv6 on loopback, as on any machine and in a bubblewrap sandbox (the
        # engine turns it off in a container without a network).
        "sysctls": {"net.ipv6.conf.all.disable_ipv6": "0", "net.ipv6.conf.lo.disable_ipv6": "0"},
        "ipc_mode": "private",
        "mem_limit": limits.memory_bytes,
        "memswap_limit": limits.memory_swap_bytes,
        "nano_cpus": round(limits.cpus * 1e9),
        "pids_limit": limits.pids,
        "ulimits": [
            Ulimit(name="nofile", soft=limits.open_files, hard=limits.open_files),
            Ulimit(name="nproc", soft=limits.pids, hard=limits.pids),
            Ulimit(name="fsize", soft=limits.file_size_bytes, hard=limits.file_size_bytes),
        ],
        "cap_drop": ["ALL"],
        "security_opt": [
            "no-new-privileges:true",
            "seccomp=" + json.dumps(seccomp_profile, separators=(",", ":")),
        ],
        "tmpfs": tmpfs,
        "shm_size": limits.tmp_bytes,
        "mounts": mounts,
        "cgroup_parent": layout.cgroup_parent,
        "log_config": LogConfig(type="none"),
    }
    host_raw = {"MaskedPaths": list(MASKED_PATHS), "ReadonlyPaths": list(READONLY_PATHS)}
    return ContainerSpec(create, host, host_raw)


def _tmpfs_options(size_bytes: int, *, owner: str | None = None) -> str:
    options = f"rw,exec,nosuid,nodev,size={size_bytes}"
    if owner is None:
        return options + ",mode=1777"
    uid, gid = owner.split(":")
    return options + f",mode=0700,uid={uid},gid={gid}"
