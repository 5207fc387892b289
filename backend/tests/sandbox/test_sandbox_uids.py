"""Each sandbox runs as a host uid of its own, uid 1000 inside, on both backends.

On Docker this is the agent's own user namespace (`inside/userns.py`):
the container runs as a host uid from the server's range and the agent maps
it to 1000. What a shared host uid would allow, and what these tests rule
out: one sandbox using up a limit the kernel counts per host uid for every
other sandbox (RLIMIT_NPROC here; pending signals, inotify and epoll
watches and pipe pages are counted the same way), and one sandbox's files
and processes belonging to the same host user as another's.
"""

from __future__ import annotations

from pathlib import Path

from tests.sandbox.conftest import Harness, Sandboxes, Started, run_ok

# 40 sleeping children: within the sandbox's 50 processes and RLIMIT_NPROC of
# 50; two sandboxes doing it at once would pass 50 if the kernel counted them
# under one uid.
HOLD_FORTY = """
import os, time
for _ in range(40):
    if os.fork() == 0:
        time.sleep(120)
        os._exit(0)
print("holding 40", flush=True)
time.sleep(120)
"""
FORK_FORTY = """
import os
children = []
for _ in range(40):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print("forked 40")
"""
WHO = """
import os, resource
print(os.getuid(), os.geteuid(), os.getgid(), *resource.getrlimit(resource.RLIMIT_NPROC))
print(os.stat("/app").st_uid, os.stat("/usr").st_uid)
"""


async def test_sandboxes_have_host_uids_of_their_own_and_uid_1000_inside(
    harness: Harness, sandboxes: Sandboxes
) -> None:
    places = [sandboxes.workspaces.new() for _ in range(2)]
    first, second = [await sandboxes.start(workspace=place) for place in places]
    uids = [harness.host_uid(s) for s in (first, second)]
    assert uids[0] != uids[1]
    assert all(uid >= 100_000 for uid in uids), uids  # from the range, never 0 or 1000

    for sandbox, uid, place in zip((first, second), uids, places, strict=True):
        ids, owners = (await run_ok(sandbox, WHO)).splitlines()
        # uid 1000 as the contract says, the seed's nproc of 50; the workspace
        # is the sandbox's, the image's root-owned files belong to nobody mapped.
        assert ids.split() == ["1000", "1000", "1000", "50", "50"]
        assert owners.split() == ["1000", "65534"]
        await run_ok(sandbox, "open('/app/mine', 'w').write('x')")
        assert (place / "mine").stat().st_uid == uid
        on_host = harness.host_processes(sandbox)
        assert on_host, "the sandbox has processes on the host"
        for pid in on_host:
            assert _host_uid_of(pid) in (uid, None), (pid, on_host)


async def test_one_sandboxs_processes_do_not_count_against_anothers_limit(
    sandboxes: Sandboxes,
) -> None:
    holder, other = await sandboxes.start(), await sandboxes.start()
    held = await Started.begin(holder, HOLD_FORTY)
    await held.stdout.wait_for(b"holding 40", 30)
    assert await run_ok(other, FORK_FORTY) == "forked 40\n"
    await held.process.kill_group()


def _host_uid_of(pid: int) -> int | None:
    """The real uid of host process `pid` (None if it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None
