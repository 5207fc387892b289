"""bwrap's options and the launcher's limits, built by pure functions, compared literally."""

from __future__ import annotations

from pathlib import Path

from sandpit.sandbox.backends.bubblewrap import (
    BwrapLayout,
    bwrap_args,
    sandbox_rlimits,
    staged_layout,
)
from sandpit.sandbox.layout import AGENT_COMMAND
from sandpit.sandbox.limits import Limits

MiB = 1024 * 1024


def test_bwrap_args_for_the_seed_limits() -> None:
    layout = BwrapLayout(Path("/img/rootfs"), Path("/data/ws/abc"), Path("/opt/inside"))
    assert bwrap_args(layout, Limits(), seccomp_fd=5, agent_fd=6, workspace_fd=7) == [
        "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try", "--disable-userns",
        "--uid", "1000", "--gid", "1000",
        "--hostname", "sandpit",
        "--die-with-parent", "--new-session", "--as-pid-1",
        "--ro-bind", "/img/rootfs", "/",
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", str(64 * MiB), "--tmpfs", "/tmp",
        "--perms", "1777", "--size", str(64 * MiB), "--tmpfs", "/dev/shm",
        "--tmpfs", "/run",
        "--ro-bind", "/opt/inside", "/run/sandpit",
        "--bind-fd", "7", "/app",
        "--remount-ro", "/dev",
        "--remount-ro", "/run",
        "--chdir", "/app",
        "--clearenv",
        "--setenv", "HOME", "/app",
        "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "SANDPIT_AGENT_FD", "6",
        "--seccomp", "5",
    ]  # fmt: skip


def test_font_cache_is_bound_into_matplotlibs_config_dir() -> None:
    layout = BwrapLayout(
        Path("/r"), Path("/w"), Path("/s"), font_cache=Path("/r/cache/fontlist-v390.json")
    )
    args = bwrap_args(layout, Limits(), seccomp_fd=5, agent_fd=6, workspace_fd=7)
    start = args.index("/r/cache/fontlist-v390.json") - 1
    assert args[start : start + 3] == [
        "--ro-bind",
        "/r/cache/fontlist-v390.json",
        "/tmp/.matplotlib/fontlist-v390.json",
    ]


def test_agent_command_and_rlimits() -> None:
    assert AGENT_COMMAND == ["/usr/bin/python3", "-I", "-S", "/run/sandpit/agent.py"]
    assert sandbox_rlimits(Limits()) == {
        "nofile": (100, 100),
        "nproc": (50, 50),
        "fsize": (100 * MiB, 100 * MiB),
    }


def test_read_only_mounts_and_a_read_only_workspace() -> None:
    layout = BwrapLayout(
        Path("/r"),
        Path("/w"),
        Path("/s"),
        read_only_mounts=((Path("/host/harness"), "/run/sandpit-grader"),),
        workspace_read_only=True,
    )
    args = bwrap_args(layout, Limits(), seccomp_fd=5, agent_fd=6, workspace_fd=7, mount_fds=(8,))
    assert "--bind-fd" not in args
    start = args.index("--ro-bind-fd")
    assert args[start : start + 3] == ["--ro-bind-fd", "7", "/app"]
    mount = args.index("/run/sandpit-grader") - 2
    assert args[mount : mount + 3] == ["--ro-bind-fd", "8", "/run/sandpit-grader"]
    # Before /run is remounted read-only: the mount point is made in its tmpfs.
    assert mount < args.index("--remount-ro", args.index("/dev", mount) - 1)


def test_a_staged_layout_binds_every_part_from_the_stage() -> None:
    layout = BwrapLayout(
        Path("/data/images/abc/rootfs"),
        Path("/data/workspaces/w1"),
        Path("/opt/inside"),
        font_cache=Path("/data/images/abc/fontlist-v390.json"),
        proxy_dir=Path("/data/proxy/s1"),
        ca_bundle=Path("/data/images/abc/ca.pem"),
        read_only_mounts=((Path("/data/grader"), "/run/sandpit-grader"),),
        workspace_read_only=True,
    )
    staged, parts = staged_layout(layout, Path("/data"))
    assert parts == [
        (Path("/data/images/abc/rootfs"), "rootfs"),
        (Path("/opt/inside"), "support"),
        (Path("/data/images/abc/fontlist-v390.json"), "fontlist-v390.json"),
        (Path("/data/proxy/s1"), "proxy"),
        (Path("/data/images/abc/ca.pem"), "ca-bundle"),
    ]
    args = bwrap_args(staged, Limits(), seccomp_fd=5, agent_fd=6)
    # Every source is the stage's; nothing is resolved under the data directory itself.
    sources = [args[i + 1] for i, arg in enumerate(args) if arg in ("--ro-bind", "--bind")]
    assert sources == [
        "/data/rootfs",
        "/data/support",
        "/data/app",
        "/data/fontlist-v390.json",
        "/data/proxy",
        "/data/ca-bundle",
        "/data/mount-0",
    ]
    assert "--bind-fd" not in args
    assert "--ro-bind-fd" not in args
    assert args[args.index("/data/app") - 1 : args.index("/data/app") + 2] == [
        "--ro-bind",
        "/data/app",
        "/app",
    ]
    assert "/tmp/.matplotlib/fontlist-v390.json" in args
