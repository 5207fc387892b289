"""sandpit-launch: its command line exactly, then the real binary, run as root.

The real tests compile the launcher into a temporary directory and run host
programs through it as an unprivileged uid, checking what the program sees
of itself in /proc: user, groups, capabilities, no_new_privs, rlimits,
descriptors, environment, signals, cgroups; and that bubblewrap started
through it runs the sandbox as that uid on the host.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from sandpit.sandbox.launcher import (
    LAUNCHER_FAILED,
    LAUNCHER_SOURCE,
    ensure_launcher,
    launcher_argv,
)
from sandpit.sandbox.seccomp import seccomp_filter

TEST_UID = 290_001  # a host uid no account uses
TEST_GID = 290_002
LAUNCHER = Path("/opt/sandpit/sandpit-launch")
# The interpreter itself, not the venv's symlink: the test uid can run it.
PYTHON = os.path.realpath(sys.executable)


# --- The command line -----------------------------------------------------------------


def test_argv_with_every_option() -> None:
    argv = launcher_argv(
        LAUNCHER,
        ["/usr/bin/bwrap", "--unshare-all", "--", "/usr/bin/python3"],
        uid=200_000,
        gid=200_001,
        cgroup_procs=[
            Path("/sys/fs/cgroup/pids/s1/cgroup.procs"),
            Path("/sys/fs/cgroup/memory/s1/cgroup.procs"),
        ],
        rlimits={"nofile": (100, 100), "nproc": (50, 60), "fsize": (None, None)},
        keep_fds=[5, 9],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert argv == [
        "/opt/sandpit/sandpit-launch",
        "--cgroup-procs", "/sys/fs/cgroup/pids/s1/cgroup.procs",
        "--cgroup-procs", "/sys/fs/cgroup/memory/s1/cgroup.procs",
        "--uid", "200000",
        "--gid", "200001",
        "--rlimit", "nofile=100:100",
        "--rlimit", "nproc=50:60",
        "--rlimit", "fsize=unlimited:unlimited",
        "--keep-fd", "5",
        "--keep-fd", "9",
        "--env", "PATH=/usr/bin:/bin",
        "--env", "LANG=C.UTF-8",
        "--",
        "/usr/bin/bwrap", "--unshare-all", "--", "/usr/bin/python3",
    ]  # fmt: skip


def test_argv_with_nothing_optional() -> None:
    argv = launcher_argv(LAUNCHER, ["/usr/bin/id", "-u"], uid=1, gid=2)
    assert argv == [
        "/opt/sandpit/sandpit-launch",
        "--uid",
        "1",
        "--gid",
        "2",
        "--",
        "/usr/bin/id",
        "-u",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uid": 0}, "uid must be an unprivileged id"),
        ({"gid": 0}, "gid must be an unprivileged id"),
        ({"uid": 2**32 - 1}, "uid must be an unprivileged id"),
        ({"program": ["id"]}, "absolute path"),
        ({"program": []}, "absolute path"),
        ({"cgroup_procs": [Path("pids/cgroup.procs")]}, "must be absolute"),
        ({"rlimits": {"core": (1, 1)}}, "unknown rlimit 'core'"),
        ({"rlimits": {"nofile": (200, 100)}}, "above hard limit"),
        ({"rlimits": {"nofile": (None, 100)}}, "above hard limit"),
        ({"rlimits": {"nofile": (-1, 100)}}, "negative"),
        ({"keep_fds": [2]}, "always kept"),
        ({"env": {"A=B": "c"}}, "cannot pass"),
        ({"env": {"": "c"}}, "cannot pass"),
        ({"env": {"A": "c\0d"}}, "cannot pass"),
    ],
)
def test_argv_refuses_what_the_launcher_would(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"program": ["/usr/bin/id"], "uid": 1000, "gid": 1000}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        launcher_argv(LAUNCHER, **arguments)  # type: ignore[arg-type]


# --- Building -------------------------------------------------------------------------


def test_the_launcher_is_built_once_and_rebuilt_when_stale(tmp_path: Path) -> None:
    built = ensure_launcher(tmp_path / "bin")
    assert built == tmp_path / "bin" / "sandpit-launch"
    assert built.stat().st_mode & 0o777 == 0o700
    first = built.stat()
    assert ensure_launcher(tmp_path / "bin").stat().st_ino == first.st_ino
    # Older than the source: rebuilt, as a new file renamed into place.
    older = LAUNCHER_SOURCE.stat().st_mtime_ns - 10**9
    os.utime(built, ns=(older, older))
    rebuilt = ensure_launcher(tmp_path / "bin")
    assert rebuilt.stat().st_ino != first.st_ino
    assert rebuilt.stat().st_mtime_ns >= LAUNCHER_SOURCE.stat().st_mtime_ns
    assert sorted(p.name for p in (tmp_path / "bin").iterdir()) == ["sandpit-launch"]


# --- The real launcher ----------------------------------------------------------------


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.fail("the launcher switches users: the tests must run as root")
    return ensure_launcher(tmp_path_factory.mktemp("launcher"))


def launch(
    launcher: Path,
    program: Sequence[str],
    *,
    pass_fds: Sequence[int] = (),
    restore_signals: bool = True,
    **options: object,
) -> subprocess.CompletedProcess[str]:
    """Run `program` through the launcher as TEST_UID; options go to launcher_argv."""
    options = {"uid": TEST_UID, "gid": TEST_GID, **options}
    argv = launcher_argv(launcher, program, **options)  # type: ignore[arg-type]
    return subprocess.run(
        argv,
        pass_fds=pass_fds,
        restore_signals=restore_signals,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def status_of(output: str) -> dict[str, str]:
    """`/proc/self/status` as {field: value}."""
    return {
        key: value.strip()
        for key, _, value in (line.partition(":") for line in output.splitlines())
    }


def test_the_program_runs_unprivileged(launcher: Path) -> None:
    result = launch(launcher, ["/bin/cat", "/proc/self/status"])
    assert result.returncode == 0, result.stderr
    status = status_of(result.stdout)
    assert status["Uid"].split() == [str(TEST_UID)] * 4
    assert status["Gid"].split() == [str(TEST_GID)] * 4
    assert status["Groups"] == ""
    for capabilities in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(status[capabilities], 16) == 0, capabilities
    assert status["NoNewPrivs"] == "1"


def test_rlimits_are_set_and_core_dumps_are_off(launcher: Path) -> None:
    rlimits = {"nofile": (100, 100), "nproc": (50, 50), "fsize": (1 << 20, 2 << 20)}
    result = launch(launcher, ["/bin/cat", "/proc/self/limits"], rlimits=rlimits)
    assert result.returncode == 0, result.stderr
    limits = {line[:26].strip(): line[26:].split()[:2] for line in result.stdout.splitlines()[1:]}
    assert limits["Max open files"] == ["100", "100"]
    assert limits["Max processes"] == ["50", "50"]
    assert limits["Max file size"] == [str(1 << 20), str(2 << 20)]
    assert limits["Max core file size"] == ["0", "0"]


def test_only_kept_descriptors_stay_open(launcher: Path) -> None:
    fds = [*os.pipe(), *os.pipe()]
    first, last = min(fds), max(fds)
    # Probing each number, since listing /proc/self/fd would count its own descriptor.
    code = "import os; print(*[fd for fd in range(1024) if os.path.exists(f'/proc/self/fd/{fd}')])"
    try:
        # Kept out of order, with dropped ones between them.
        program = [PYTHON, "-I", "-S", "-c", code]
        result = launch(launcher, program, pass_fds=fds, keep_fds=[last, first])
    finally:
        for fd in fds:
            os.close(fd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "1", "2", str(first), str(last)]


def test_the_environment_is_only_what_is_passed(launcher: Path) -> None:
    result = launch(launcher, ["/usr/bin/env"], env={"LANG": "C.UTF-8", "HOME": "/app"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["LANG=C.UTF-8", "HOME=/app"]
    assert launch(launcher, ["/usr/bin/env"]).stdout == ""


class _KernelSigaction(ctypes.Structure):
    _fields_ = [
        ("handler", ctypes.c_void_p),
        ("flags", ctypes.c_ulong),
        ("restorer", ctypes.c_void_p),
        ("mask", ctypes.c_ulong),
    ]


def _rt_sigaction(signum: int, action: _KernelSigaction | None) -> _KernelSigaction:
    old = _KernelSigaction()
    libc = ctypes.CDLL(None, use_errno=True)
    new = ctypes.byref(action) if action is not None else None
    assert libc.syscall(13, signum, new, ctypes.byref(old), 8) == 0  # SYS_rt_sigaction, x86_64
    return old


def ctypes_ignore(signum: int) -> _KernelSigaction:
    """Ignore `signum` in this process, even one glibc reserves; return the old action."""
    return _rt_sigaction(signum, _KernelSigaction(1, 0, None, 0))  # SIG_IGN


def ctypes_restore(signum: int, action: _KernelSigaction) -> None:
    _rt_sigaction(signum, action)


def test_signals_start_at_their_defaults(launcher: Path) -> None:
    # Python ignores SIGPIPE; without restore_signals the launcher inherits
    # that. Signal 32 is one of glibc's reserved real-time signals, which
    # glibc's signal() cannot reset (seen ignored under a CI runner).
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    previous = ctypes_ignore(32)
    try:
        result = launch(launcher, ["/bin/cat", "/proc/self/status"], restore_signals=False)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
        ctypes_restore(32, previous)
    assert result.returncode == 0, result.stderr
    status = status_of(result.stdout)
    assert (int(status["SigIgn"], 16), int(status["SigBlk"], 16)) == (0, 0)


PDEATHSIG_PROBE = """
import ctypes
signal = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(signal))  # PR_GET_PDEATHSIG
print(signal.value)
"""

# Starts the command line given as JSON, prints the child's pid, then waits.
PARENT = """
import json, subprocess, sys, time
print(subprocess.Popen(json.loads(sys.argv[1])).pid, flush=True)
time.sleep(60)
"""


def test_the_program_gets_sigkill_when_its_parent_dies(launcher: Path) -> None:
    result = launch(launcher, [PYTHON, "-I", "-S", "-c", PDEATHSIG_PROBE])
    assert (result.returncode, result.stdout) == (0, f"{int(signal.SIGKILL)}\n"), result.stderr

    # And for real: the parent that started the launcher is killed.
    argv = launcher_argv(launcher, ["/bin/sleep", "60"], uid=TEST_UID, gid=TEST_GID)
    command = [sys.executable, "-c", PARENT, json.dumps(argv)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        wait_until(lambda: cmdline(pid).startswith(b"/bin/sleep"))
        parent.kill()
    wait_until(lambda: not is_alive(pid))


def is_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def cgroups() -> Iterator[list[Path]]:
    """A fresh cgroup in the v1 pids hierarchy, and in the v2 one where mounted; removed after."""
    name = f"sandpit-test-{uuid.uuid4().hex[:12]}"
    roots = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup")]
    made: list[Path] = []
    try:
        for root in roots:
            if (root / "cgroup.procs").is_file() and os.access(root, os.W_OK):
                (root / name).mkdir()
                made.append(root / name)
        if not made:
            pytest.fail("no writable cgroup hierarchy: the tests run as root, as the server does")
        yield made
    finally:
        for group in made:
            group.rmdir()


def test_the_program_starts_in_the_cgroups(launcher: Path, cgroups: list[Path]) -> None:
    procs = [group / "cgroup.procs" for group in cgroups]
    result = launch(launcher, ["/bin/cat", "/proc/self/cgroup"], cgroup_procs=procs)
    assert result.returncode == 0, result.stderr
    memberships = {line.split(":", 2)[2] for line in result.stdout.splitlines()}
    for group in cgroups:
        assert f"/{group.name}" in memberships


def test_a_symlinked_cgroup_file_is_not_followed(launcher: Path, tmp_path: Path) -> None:
    planted = tmp_path / "cgroup.procs"
    planted.symlink_to(tmp_path / "target")
    result = launch(launcher, ["/bin/true"], cgroup_procs=[planted])
    assert result.returncode == LAUNCHER_FAILED
    assert result.stderr == f"sandpit-launch: open {planted}: Too many levels of symbolic links\n"
    assert not (tmp_path / "target").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("--uid 0 --gid 1 -- /bin/true", "refusing to run as root: --uid: Operation not permitted"),
        ("--uid 1 --gid 0 -- /bin/true", "refusing to run as root: --gid: Operation not permitted"),
        ("--gid 1 -- /bin/true", "--uid and --gid are required: Invalid argument"),
        ("--uid 1 --gid 1 -- true", "want -- and an absolute program path: Invalid argument"),
        ("--uid 1 --gid 1 /bin/true", "missing value after /bin/true: Invalid argument"),
        ("--uid 1 --gid 1 -- /nonexistent", "execve /nonexistent: No such file or directory"),
        ("--uid -5 --gid 1 -- /bin/true", "bad number -5: Invalid argument"),
        ("--uid 1 --gid 1 --rlimit core=0:0 -- /bin/true", "unknown rlimit core: Invalid argument"),
        ("--uid 1 --gid 1 --rlimit nofile=9 -- /bin/true", "--rlimit wants NAME=SOFT:HARD, not"),
        ("--uid 1 --gid 1 --rlimit nofile=9:8 -- /bin/true", "setrlimit nofile: Invalid argument"),
        ("--uid 1 --gid 1 --keep-fd 999 -- /bin/true", "--keep-fd 999: Bad file descriptor"),
        ("--uid 1 --gid 1 --env NOEQUALS -- /bin/true", "bad option --env: Invalid argument"),
        (
            "--uid 1 --gid 1 --cgroup-procs /no/cgroup.procs -- /bin/true",
            "open /no/cgroup.procs: No",
        ),
        ("--uid", "missing value after --uid: Invalid argument"),
        ("--uid 1 --gid 1 --stage-fd 3:x -- /bin/true", "--stage-fd without --stage"),
        ("--uid 1 --gid 1 --stage /tmp --stage-fd 0:x -- /bin/true", "bad number 0"),
        ("--uid 1 --gid 1 --stage /tmp --stage-fd 3:.. -- /bin/true", "bad --stage-fd name .."),
    ],
)
def test_a_failure_exits_127_and_says_why(launcher: Path, arguments: str, message: str) -> None:
    argv = [str(launcher), *arguments.split()]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == LAUNCHER_FAILED
    assert result.stderr.startswith(f"sandpit-launch: {message}"), result.stderr
    assert result.stdout == ""


def test_bubblewrap_runs_the_sandbox_as_the_unprivileged_host_uid(
    launcher: Path, image_rootfs: Path
) -> None:
    rootfs = image_rootfs
    bwrap = [
        "/usr/bin/bwrap", "--unshare-all", "--uid", "1000", "--gid", "1000",
        "--ro-bind", str(rootfs), "/", "--proc", "/proc", "--dev", "/dev", "--die-with-parent",
    ]  # fmt: skip
    # The production path: the seccomp filter reaches bwrap through --keep-fd.
    with tempfile.TemporaryFile() as bpf:
        bpf.write(seccomp_filter())
        bpf.seek(0)
        fd = bpf.fileno()
        inside = launch(
            launcher,
            [*bwrap, "--seccomp", str(fd), "/bin/cat", "/proc/self/status"],
            pass_fds=(fd,),
            keep_fds=[fd],
        )
    assert inside.returncode == 0, inside.stderr
    status = status_of(inside.stdout)
    assert status["Uid"].split() == ["1000"] * 4
    assert (status["CapEff"], status["NoNewPrivs"], status["Seccomp"]) == ("0" * 16, "1", "2")

    argv = launcher_argv(launcher, [*bwrap, "/bin/sleep", "60"], uid=TEST_UID, gid=TEST_GID)
    with subprocess.Popen(argv) as sandbox:
        try:
            wait_until(lambda: any(b"sleep" in cmdline(p) for p in descendants(sandbox.pid)))
            tree = [sandbox.pid, *descendants(sandbox.pid)]
            assert len(tree) >= 3  # bwrap, its init inside the sandbox, sleep
            for pid in tree:
                host_uids = status_of(Path(f"/proc/{pid}/status").read_text())["Uid"].split()
                assert host_uids == [str(TEST_UID)] * 4
        finally:
            sandbox.kill()


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def test_the_stage_shows_the_staged_parts_in_a_closed_directory(launcher: Path) -> None:
    """The program, unprivileged, reads through the stage what it cannot reach on the
    host (in a 0700 directory), and nothing else of that directory, whose own
    mounts its namespace no longer holds; the host's view is unchanged."""
    closed = Path(tempfile.mkdtemp(prefix="sandpit-closed-"))
    (closed / "mounted").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "none", str(closed / "mounted")], check=True)
    try:
        closed.chmod(0o700)
        (closed / "part").mkdir()
        (closed / "part" / "file").write_text("staged\n")
        (closed / "secret").write_text("secret\n")
        part = os.open(closed / "part", os.O_PATH | os.O_CLOEXEC)
        program = 'cat "$0/part/file"; cat "$0/secret" || echo hidden; grep -c "$0/mounted" $1'
        try:
            result = launch(
                launcher,
                ["/bin/sh", "-c", program, str(closed), "/proc/self/mountinfo"],
                pass_fds=[part],
                stage=closed,
                staged=[(part, "part")],
            )
        finally:
            os.close(part)
        assert result.returncode == 1, result.stderr  # grep found nothing
        assert result.stdout.splitlines() == ["staged", "hidden", "0"]
        assert launch(launcher, ["/bin/cat", str(closed / "part" / "file")]).returncode != 0
        assert sorted(p.name for p in closed.iterdir()) == ["mounted", "part", "secret"]
    finally:
        subprocess.run(["umount", str(closed / "mounted")], check=True)
        shutil.rmtree(closed)
