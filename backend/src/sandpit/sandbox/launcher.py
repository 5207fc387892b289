"""sandpit-launch: how a root server starts a sandbox unprivileged and already confined.

`launcher.c` is a small program that joins cgroups, sets rlimits, drops to an
unprivileged host uid, sets no_new_privs and a parent-death SIGKILL, closes
stray file descriptors, clears the environment and executes its program
(bubblewrap), so that nothing of the sandbox ever runs as root or outside its
cgroups, and nothing of the server (descriptors, environment, ignored signals)
leaks in. `ensure_launcher` compiles it once; `launcher_argv` builds its
command line.

The parent-death signal fires when the *thread* that started the launcher
exits, so start it from a thread that lives as long as the server (the event
loop's), never from a short-lived worker thread.

Build dependencies (Debian): `gcc` and `libc6-dev` (whose libc.a makes the
launcher a static binary; without it the launcher links dynamically). Run
time: Linux 5.9 or newer (close_range).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

LAUNCHER_NAME = "sandpit-launch"
LAUNCHER_SOURCE = Path(__file__).with_name("launcher.c")
# Exit status of the launcher when it fails before executing the program.
LAUNCHER_FAILED = 127

RlimitName = Literal["nofile", "nproc", "fsize", "cpu", "as", "stack", "memlock"]
RLIMIT_NAMES: tuple[RlimitName, ...] = ("nofile", "nproc", "fsize", "cpu", "as", "stack", "memlock")
# (soft, hard); None is "unlimited". RLIMIT_CORE is always 0 and not settable.
Rlimit = tuple[int | None, int | None]

_CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror")
_MAX_ID = 0xFFFFFFFE  # (uid_t)-1 means "unchanged" to setresuid
# What launcher.c accepts as a staged name: one path part, never "." or "..".
_STAGED_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")


class LauncherBuildError(RuntimeError):
    """The launcher could not be compiled; the message holds the compiler's complaint."""


def ensure_launcher(build_dir: Path) -> Path:
    """Return the compiled launcher in `build_dir`, compiling it first if needed.

    It is compiled when the binary is missing or older than `launcher.c`:
    statically if the C library allows, dynamically otherwise, into a
    temporary file that is renamed into place, so a concurrent caller sees
    either the old binary or the new one, never half of one. Raises
    LauncherBuildError if there is no compiler or compiling fails.
    """
    target = build_dir / LAUNCHER_NAME
    if _up_to_date(target, LAUNCHER_SOURCE):
        return target
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise LauncherBuildError("no C compiler to build sandpit-launch: install gcc and libc6-dev")
    build_dir.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{LAUNCHER_NAME}-", dir=build_dir)
    os.close(fd)
    try:
        _compile(compiler, LAUNCHER_SOURCE, Path(temporary))
        os.chmod(temporary, 0o700)  # only root has a use for it
        os.replace(temporary, target)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    return target


def _up_to_date(target: Path, source: Path) -> bool:
    try:
        built = target.lstat()
    except FileNotFoundError:
        return False
    return stat.S_ISREG(built.st_mode) and built.st_mtime_ns >= source.stat().st_mtime_ns


def _compile(compiler: str, source: Path, output: Path) -> None:
    complaint = ""
    for link in (["-static"], []):
        result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [compiler, *_CFLAGS, *link, "-o", str(output), str(source)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode == 0:
            return
        complaint = result.stderr.strip()  # the dynamic attempt's, if static failed too
    raise LauncherBuildError(f"compiling {source} failed: {complaint}")


def launcher_argv(
    launcher: Path,
    program: Sequence[str],
    *,
    uid: int,
    gid: int,
    cgroup_procs: Sequence[Path] = (),
    rlimits: Mapping[RlimitName, Rlimit] | None = None,
    keep_fds: Sequence[int] = (),
    env: Mapping[str, str] | None = None,
    stage: Path | None = None,
    staged: Sequence[tuple[int, str]] = (),
) -> list[str]:
    """The command line that runs `program` through the launcher.

    `program[0]` must be an absolute path (there is no PATH search). The
    program starts in every cgroup whose `cgroup.procs` file is listed, with
    these rlimits (and core dumps off), as `uid`:`gid` with no supplementary
    groups, with only descriptors 0-2 and `keep_fds` open and only `env` as
    its environment. With `stage`, it first mounts, in a mount namespace of
    its own, a read-only tmpfs over that directory holding a bind mount of
    each `staged` (descriptor, name) at ``stage/name`` (see launcher.c): the
    program finds those there by path whatever the modes of the directories
    they come from. Raises ValueError for a root or out-of-range id, a
    relative program, cgroup or stage path, an unknown or inverted rlimit, a
    descriptor below 3, a staged name that is not one path part, or an
    environment entry the launcher cannot pass.
    """
    for name, number in (("uid", uid), ("gid", gid)):
        if not 0 < number <= _MAX_ID:
            raise ValueError(f"{name} must be an unprivileged id, not {number}")
    if not program or not program[0].startswith("/"):
        raise ValueError(f"the program must be an absolute path: {list(program)!r}")
    argv = [str(launcher)]
    for procs in cgroup_procs:
        if not procs.is_absolute():
            raise ValueError(f"cgroup.procs path must be absolute: {procs}")
        argv += ["--cgroup-procs", str(procs)]
    argv += ["--uid", str(uid), "--gid", str(gid)]
    for name, (soft, hard) in (rlimits or {}).items():
        argv += ["--rlimit", f"{name}={_rlimit_value(name, soft, hard)}"]
    for fd in keep_fds:
        if fd < 3:
            raise ValueError(f"descriptors 0-2 are always kept; --keep-fd {fd} is wrong")
        argv += ["--keep-fd", str(fd)]
    for key, value in (env or {}).items():
        if not key or "=" in key or "\0" in key or "\0" in value:
            raise ValueError(f"cannot pass environment variable {key!r}")
        argv += ["--env", f"{key}={value}"]
    if staged and stage is None:
        raise ValueError("staged descriptors need a stage directory")
    if stage is not None:
        if not stage.is_absolute():
            raise ValueError(f"the stage directory must be absolute: {stage}")
        argv += ["--stage", str(stage)]
    for fd, name in staged:
        if fd < 3 or not _STAGED_NAME.fullmatch(name):
            raise ValueError(f"cannot stage descriptor {fd} as {name!r}")
        argv += ["--stage-fd", f"{fd}:{name}"]
    return [*argv, "--", *program]


def _rlimit_value(name: str, soft: int | None, hard: int | None) -> str:
    if name not in RLIMIT_NAMES:
        raise ValueError(f"unknown rlimit {name!r}; known: {', '.join(RLIMIT_NAMES)}")
    for value in (soft, hard):
        if value is not None and value < 0:
            raise ValueError(f"rlimit {name} must not be negative")
    if hard is not None and (soft is None or soft > hard):
        raise ValueError(f"rlimit {name}: soft limit {soft} is above hard limit {hard}")
    return f"{'unlimited' if soft is None else soft}:{'unlimited' if hard is None else hard}"
