"""What the live cgroup tests share (`test_cgroups.py` and `test_cgroups_v2.py`).

`Children` starts child processes paused, moves them into a cgroup, then
lets them run their code; the `children` fixture in conftest.py kills and
waits for every one at teardown. `random_root` names a test root that no
production tree and no other test run uses. `SMALL` is the limits the tests
create sandboxes with, and `FORK_CHURN` a process tree whose pids keep
changing, for the kill paths.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

from sandpit.sandbox.cgroups import Leaf, SandboxCgroup
from sandpit.sandbox.cgroups.fs import write_file
from sandpit.sandbox.limits import Limits, MiB


class Children:
    """Child processes that wait to be moved into a cgroup before running their code."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def held(self, code: str) -> subprocess.Popen[bytes]:
        """Start `python -c code` paused on stdin; `release` lets it run."""
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys\nsys.stdin.buffer.read(1)\n" + code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.started.append(process)
        return process

    def in_leaf(self, leaf: Leaf, code: str) -> subprocess.Popen[bytes]:
        """Start `code` in `leaf`: moved there before it runs a line of it."""
        process = self.held(code)
        leaf.add(process.pid)
        assert process.stdin is not None
        process.stdin.write(b"x")
        process.stdin.flush()
        return process

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def read_line(process: subprocess.Popen[bytes]) -> str:
    assert process.stdout is not None
    return process.stdout.readline().decode().strip()


def random_root(prefix: str = "sandpit-test") -> str:
    """A root name no production tree and no other test run uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


SMALL = Limits(memory_bytes=64 * MiB, memory_swap_bytes=64 * MiB, cpus=0.5, pids=10)

FORK_CHURN = """
import os, random, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # no zombies: forks keep coming
while True:
    try:
        pid = os.fork()
    except OSError:
        time.sleep(0.001)
        continue
    if pid > 0 and random.random() < 0.5:
        os._exit(0)  # the parent leaves, its child forks on: pids keep changing
"""


def in_cgroup_itself(sandbox: SandboxCgroup, children: Children) -> subprocess.Popen[bytes]:
    """A sleeper placed in the sandbox cgroup itself, as an engine puts a container's init."""
    process = children.held("import time; time.sleep(100)")
    for path in sandbox.paths:
        write_file(path / "cgroup.procs", str(process.pid))
    return process
