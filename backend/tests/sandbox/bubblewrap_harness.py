"""The contract suite's harness for the bubblewrap backend (see `Harness` in conftest.py).

Its backends run on the harness's test cgroup root (see `AgentHarness`) and
on real host uids from a range the server does not use: a block of
`UID_BLOCK` per backend object from this worker's range (300000 up for the
first; see tests/workers.py), never reused in a session (the server's
default is 200000-209999), and workspace gids from the same block shifted
by `TEST_GID_OFFSET` (the server's default is 210000-219999).
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

from sandpit.sandbox import cgroups
from sandpit.sandbox.backends.bubblewrap import BubblewrapBackend, BubblewrapSandbox
from sandpit.sandbox.base import Sandbox
from sandpit.sandbox.layout import INSIDE_DIR
from sandpit.sandbox.uids import GroupPool, UidPool
from tests import workers
from tests.sandbox.agent_harness import AgentHarness, live_processes
from tests.servers import public_tmp

# Host uids for test sandboxes: a block per backend object, never reused in a
# session, from this worker's own range (other workers count in theirs).
UID_BLOCK = 32
# A backend's workspace gids: its uid block, shifted by this.
TEST_GID_OFFSET = 1_300_000
_UIDS = workers.uid_range()
_uid_blocks = itertools.count(_UIDS.start, UID_BLOCK)


def take_uid_block() -> int:
    """The first uid of a block of `UID_BLOCK` test uids no other backend object has."""
    first = next(_uid_blocks)
    if first + UID_BLOCK > _UIDS.stop:
        raise RuntimeError(f"this worker's test uids ({_UIDS}) are used up")
    return first


def processes_of_uids(uids: range) -> dict[int, str]:
    """Host pid -> command name of every live process whose real uid is in `uids`."""
    return live_processes(lambda _pid, fields: int(fields.get("Uid", "-1 ").split()[0]) in uids)


class BubblewrapHarness(AgentHarness):
    """Makes `BubblewrapBackend`s on a test cgroup root and inspects what they leave."""

    name = "bubblewrap"

    def __init__(self, rootfs: Path, state_dir: Path) -> None:
        super().__init__(rootfs, state_dir)
        self.uid_blocks: list[range] = []
        # What the launchers mount their sandboxes' parts over: 0700, as the
        # server's data directory is; only its parents are searchable.
        self.stage_dir = public_tmp("sandpit-stage-")
        self.stage_dir.chmod(0o700)

    def make(self) -> BubblewrapBackend:
        """A new backend object (a new "server") on this harness's cgroup root and uids."""
        first = take_uid_block()
        self.uid_blocks.append(range(first, first + UID_BLOCK))
        return BubblewrapBackend(
            rootfs=self.rootfs,
            state_dir=self.state_dir,
            stage_dir=self.stage_dir,
            driver=cgroups.detect(self.root_name),
            uids=UidPool(first, UID_BLOCK),
            gids=GroupPool(first + TEST_GID_OFFSET, UID_BLOCK),
        )

    def host_uid(self, sandbox: Sandbox) -> int:
        """The host uid that sandbox code runs as and that owns the files it writes."""
        assert isinstance(sandbox, BubblewrapSandbox)
        return sandbox.uid

    def host_processes(self, sandbox: Sandbox) -> dict[int, str]:
        """Every process on the host running as the sandbox's host uid, in its cgroup or not."""
        uid = self.host_uid(sandbox)
        return processes_of_uids(range(uid, uid + 1))

    def sandbox_exists_on_host(self, sandbox_id: str) -> bool:
        return self.driver.open_sandbox(sandbox_id) is not None

    nosuid_mounts = True

    def expected_binds(self, sandbox: Sandbox, workspace: Path) -> dict[str, str]:
        """The image, the agent's files, the workspace."""
        return {"/": str(self.rootfs), "/run/sandpit": str(INSIDE_DIR), "/app": str(workspace)}

    def engine_files(self, sandbox: Sandbox) -> Path | None:
        return None

    def leftovers(self) -> list[str]:
        """Everything of this harness's sandboxes still on the host: cgroups and processes."""
        found = [f"cgroup {self.root_name}/{name}" for name in self.driver.list_sandboxes()]
        for block in self.uid_blocks:
            found += [f"process {pid} ({name})" for pid, name in processes_of_uids(block).items()]
        return found

    def spawn_server(self, workspace: Path, sandbox_id: str) -> subprocess.Popen[bytes]:
        """A separate "server" process that starts sandbox `sandbox_id` with a sleeper in it.

        It prints "ready" once the sleeper runs, then waits to be killed
        (the test plays the crash with SIGKILL).
        """
        first = take_uid_block()
        self.uid_blocks.append(range(first, first + UID_BLOCK))
        args = [self.root_name, str(self.rootfs), str(self.state_dir), str(self.stage_dir)]
        args.append(str(workspace))
        return subprocess.Popen(
            [sys.executable, "-c", _SERVER_PROGRAM, *args, str(first), sandbox_id],
            stdout=subprocess.PIPE,
        )

    def close(self) -> None:
        self.driver.remove_root()
        self.stage_dir.rmdir()  # never written: the launchers' mounts are their own


_SERVER_PROGRAM = """
import asyncio, sys
from pathlib import Path
from sandpit.sandbox import cgroups
from sandpit.sandbox.base import ExecRequest, SandboxSpec
from sandpit.sandbox.backends.bubblewrap import BubblewrapBackend
from sandpit.sandbox.uids import GroupPool, UidPool
from sandpit.sandbox.limits import Limits

async def main():
    root, rootfs, state, stage, workspace, first_uid, sandbox_id = sys.argv[1:]
    backend = BubblewrapBackend(
        rootfs=Path(rootfs), state_dir=Path(state), stage_dir=Path(stage),
        driver=cgroups.detect(root),
        uids=UidPool(int(first_uid), 1), gids=GroupPool(int(first_uid) + 1_300_000, 1),
    )
    sandbox = await backend.start(SandboxSpec(sandbox_id, "ws", Path(workspace), Limits()))
    await sandbox.exec(ExecRequest(["sleep", "300"], {"PATH": "/usr/bin:/bin"}, "run-left"))
    print("ready", flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""
