"""bwrap's options and the launcher's limits, built by pure functions, compared literally."""

from __future__ import annotations

from pathlib import Path

from sandpit.sandbox.backends.bubblewrap import BwrapLayout, bwrap_args, sandbox_rlimits
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
