"""The Docker container's options, compared literally (a pure function), and its seccomp profile."""

from __future__ import annotations

import dataclasses
import errno
import json
from pathlib import Path

from docker.types import LogConfig, Mount, Ulimit

from sandpit.sandbox import seccomp
from sandpit.sandbox.backends.docker import engine_problem
from sandpit.sandbox.backends.docker_options import ContainerLayout, container_options
from sandpit.sandbox.limits import Limits, MiB
from tests.sandbox.test_seccomp import REFUSED

LAYOUT = ContainerLayout(
    image="sandpit-runtime:0123456789abcdef",
    name="sandpit-00112233aabbccdd",
    instance="sandpit",
    workspace=Path("/data/workspaces/w1/mnt"),
    support=Path("/srv/sandpit/inside"),
    agent_dir=Path("/data/sandboxes/docker-agents/s1"),
    cgroup_parent="/sandpit",
    proxy_dir=Path("/data/sandboxes/proxy/s1"),
    ca_bundle=Path("/etc/ssl/certs/ca-certificates.crt"),
    font_cache=Path("/images/h/rootfs/var/cache/fontlist-v390.json"),
)


def test_the_container_has_the_seeds_configuration_and_more() -> None:
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": [], "syscalls": []}
    spec = container_options(
        LAYOUT,
        Limits(),
        sandbox_id="s1",
        workspace_id="w1",
        seccomp_profile=profile,
        host_uid=200_017,
        host_gid=210_003,
    )
    assert spec.create == {
        "image": "sandpit-runtime:0123456789abcdef",
        "command": ["/usr/bin/python3", "-I", "-S", "/run/sandpit/agent.py"],
        "name": "sandpit-00112233aabbccdd",
        "hostname": "sandpit",
        "detach": True,
        # The container's own host uid and its workspace's gid; its agent maps
        # both to 1000 (see the module).
        "user": "200017:210003",
        "working_dir": "/app",
        "environment": {
            "HOME": "/app",
            "PYTHONPATH": "/app",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "SANDPIT_AGENT_SOCKET": "/run/sandpit-agent/agent.sock",
            "SANDPIT_USERNS_ID": "1000",
            "SANDPIT_AGENT_SECCOMP": "/run/sandpit-agent/seccomp.bpf",
        },
        "labels": {
            "org.sandpit.sandbox": "s1",
            "org.sandpit.workspace": "w1",
            "org.sandpit.instance": "sandpit",
        },
    }
    assert spec.host == {
        "auto_remove": True,
        "read_only": True,
        "init": False,
        "network_mode": "none",
        "sysctls": {"net.ipv6.conf.all.disable_ipv6": "0", "net.ipv6.conf.lo.disable_ipv6": "0"},
        "ipc_mode": "private",
        "mem_limit": 512 * MiB,
        "memswap_limit": 512 * MiB,
        "nano_cpus": 1_000_000_000,
        "pids_limit": 50,
        "ulimits": [
            Ulimit(name="nofile", soft=100, hard=100),
            # The seed's 50: the kernel counts it per host uid, one per sandbox.
            Ulimit(name="nproc", soft=50, hard=50),
            Ulimit(name="fsize", soft=100 * MiB, hard=100 * MiB),
        ],
        "cap_drop": ["ALL"],
        "security_opt": [
            "no-new-privileges:true",
            "seccomp=" + json.dumps(profile, separators=(",", ":")),
        ],
        "tmpfs": {
            "/tmp": f"rw,exec,nosuid,nodev,size={64 * MiB},mode=1777",
            "/tmp/.matplotlib": (
                f"rw,exec,nosuid,nodev,size={16 * MiB},mode=0700,uid=200017,gid=210003"
            ),
        },
        "shm_size": 64 * MiB,
        "mounts": [
            Mount("/app", "/data/workspaces/w1/mnt", type="bind", read_only=False),
            Mount("/run/sandpit", "/srv/sandpit/inside", type="bind", read_only=True),
            Mount(
                "/run/sandpit-agent",
                "/data/sandboxes/docker-agents/s1",
                type="bind",
                read_only=True,
            ),
            Mount(
                "/tmp/.matplotlib/fontlist-v390.json",
                "/images/h/rootfs/var/cache/fontlist-v390.json",
                type="bind",
                read_only=True,
            ),
            Mount("/run/sandpit-proxy", "/data/sandboxes/proxy/s1", type="bind", read_only=True),
            Mount(
                "/run/sandpit-ca/ca.crt",
                "/etc/ssl/certs/ca-certificates.crt",
                type="bind",
                read_only=True,
            ),
        ],
        "cgroup_parent": "/sandpit",
        "log_config": LogConfig(type="none"),
    }
    assert spec.host_raw["MaskedPaths"][0] == "/sys"
    assert "/proc/kcore" in spec.host_raw["MaskedPaths"]
    assert spec.host_raw["ReadonlyPaths"] == [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ]
    # Never the engine's socket, never privileged, nothing of the server's environment.
    assert "privileged" not in spec.host
    assert all("docker.sock" not in mount["Source"] for mount in spec.host["mounts"])


def test_read_only_mounts_and_a_read_only_workspace() -> None:
    layout = dataclasses.replace(
        LAYOUT,
        read_only_mounts=((Path("/host/harness"), "/run/sandpit-grader"),),
        workspace_read_only=True,
        proxy_dir=None,
        ca_bundle=None,
        font_cache=None,
    )
    spec = container_options(
        layout,
        Limits(),
        sandbox_id="s1",
        workspace_id="w1",
        seccomp_profile={},
        host_uid=200_017,
        host_gid=210_003,
    )
    assert spec.host["mounts"] == [
        Mount("/app", "/data/workspaces/w1/mnt", type="bind", read_only=True),
        Mount("/run/sandpit", "/srv/sandpit/inside", type="bind", read_only=True),
        Mount(
            "/run/sandpit-agent", "/data/sandboxes/docker-agents/s1", type="bind", read_only=True
        ),
        Mount("/run/sandpit-grader", "/host/harness", type="bind", read_only=True),
    ]


def test_the_docker_profile_refuses_what_the_bubblewrap_filter_refuses() -> None:
    profile = seccomp.docker_profile("x86_64")
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"
    assert profile["architectures"] == ["SCMP_ARCH_X86_64"]
    entries = profile["syscalls"]
    assert isinstance(entries, list)
    by_name: dict[str, list[dict[str, object]]] = {}
    for entry in entries:
        by_name.setdefault(entry["names"][0], []).append(entry)
    # Every call the filter's own tests list (written out there, not taken from the
    # module's table), refused with EPERM whatever its arguments.
    for name in REFUSED:
        assert by_name[name] == [
            {"names": [name], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM}
        ]
    assert by_name["clone3"] == [
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS}
    ]
    # clone with a CLONE_NEWUSER flag; ioctl TIOCSTI on its low 32 bits.
    assert {
        "names": ["clone"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": errno.EPERM,
        "args": [
            {"index": 0, "value": 0x10000000, "valueTwo": 0x10000000, "op": "SCMP_CMP_MASKED_EQ"}
        ],
    } in by_name["clone"]
    assert {
        "names": ["ioctl"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": errno.EPERM,
        "args": [{"index": 1, "value": 0xFFFFFFFF, "valueTwo": 0x5412, "op": "SCMP_CMP_MASKED_EQ"}],
    } in by_name["ioctl"]
    assert seccomp.docker_profile("aarch64")["architectures"] == ["SCMP_ARCH_AARCH64"]


def test_the_agents_profile_leaves_only_unshare_of_a_user_namespace_to_it() -> None:
    plain = seccomp.docker_profile("x86_64")
    agents = seccomp.docker_profile("x86_64", agent_user_namespace=True)
    assert isinstance(plain["syscalls"], list)
    assert isinstance(agents["syscalls"], list)
    changed = [(a, b) for a, b in zip(plain["syscalls"], agents["syscalls"], strict=True) if a != b]
    assert changed == [
        (
            {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM},
            {
                "names": ["unshare"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno.EPERM,
                "args": [{"index": 0, "value": 0x10000000, "valueTwo": 0, "op": "SCMP_CMP_NE"}],
            },
        )
    ]


def test_an_engine_on_the_systemd_cgroup_driver_is_refused_with_a_sentence() -> None:
    assert engine_problem({"CgroupDriver": "cgroupfs", "CgroupVersion": "2"}) is None
    problem = engine_problem({"CgroupDriver": "systemd"})
    assert problem is not None
    assert "native.cgroupdriver=cgroupfs" in problem
