"""A noisy tenant: one hostile user at every cap at once, through the public API only.

In one run, on one server (bubblewrap; the limits are the server's, not the
backend's) whose caps are small so each is reached with few sandboxes, one
user holds every sandbox, terminal and concurrent run they may have, and
for `NOISE_S` seconds keeps runs going that draw large incompressible plots,
print past the output cap and fill their workspace past its quota, lists
runs, and keeps asking for more of everything. Meanwhile a bystander keeps
running `print("hi")` and reading a file. Asserted, in the same run:

- every refusal is a 429 with `Retry-After` and a sentence naming its limit;
- the bystander's runs and reads all answer, correctly;
- the server's resident memory grows by less than `RSS_GROWTH_BOUND`;
- the data directory grows by no more than the documented quotas allow for
  the workspaces involved (`growth_bound`), and `runs/` (plots and run
  records) by no more than `RUN_STORAGE_BYTES` per workspace;
- the loop devices and mounts of the data directory number at most one per
  workspace;
- sign-ups flooded from the noisy user's address stop at
  `SIGNUPS_PER_ADDRESS`, each refusal a 429 with `Retry-After`;
- once the noisy user deletes their account, nothing of theirs is left: no
  file or folder under the data directory named for their workspaces, no
  history blob only they referred to, nothing in the trash, no loop device
  or mount of theirs, no cgroup of theirs; the bystander's blob stays.

Speed is not asserted (the bystander's latency is `bench/bench_noisy_tenant.py`'s).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import User
from tests.servers import SandpitServer, mounts_under

MiB = 2**20
NOISE_S = 20.0
WORKSPACE_QUOTA = 16 * MiB
RUN_STORAGE = 8 * MiB
HISTORY_QUOTA = 8 * MiB
# Sign-ups from one address (everything here comes from 127.0.0.1): the
# fixture's two users, then the flood's.
SIGNUPS = 6
# Plots are written to disk as they come and lists are summaries: the server
# holds counters, not images. A plot or an output held in memory per run
# would pass this quickly (each run below draws 5 x ~1.4 MiB and prints 2 MiB).
RSS_GROWTH_BOUND = 120 * MiB

# Five incompressible 700x700 images (~1.4 MiB of PNG each), 2 MiB of output
# (past the 1 MiB cap), and the workspace filled past its quota.
HOSTILE_RUN = """
import os, numpy as np, matplotlib.pyplot as plt
for i in range(5):
    plt.figure(figsize=(7, 7), dpi=100)
    plt.figimage(np.random.randint(0, 255, (700, 700, 3), dtype=np.uint8))
    plt.show()
print("x" * 2_000_000)
try:
    with open("filler-%d" % os.getpid(), "wb") as f:
        for _ in range(40):
            f.write(os.urandom(1 << 20))
except OSError as e:
    print("quota:", e.errno)
"""
# What one such run stores at most: its plots and its output, capped.
HOSTILE_RUN_BYTES = 5 * 3 * 700 * 700 + 64 * 1024 + 1 * MiB
LONG_RUN = "import time\nprint('up', flush=True)\ntime.sleep(600)"


@dataclass
class Observed:
    """What each side saw, by thread; `problems` must stay empty."""

    refusals: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)
    bystander_runs: int = 0
    bystander_reads: int = 0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            key = f"{what} {response.status_code}"
            self.answers[key] = self.answers.get(key, 0) + 1
            if response.status_code == 429:
                if "Retry-After" not in response.headers:
                    self.problems.append(f"{what}: a 429 without Retry-After")
                self.refusals.append(response.json()["detail"])
            elif response.status_code >= 500:
                self.problems.append(f"{what}: {response.status_code} {response.text[:200]}")


@pytest.fixture(scope="module")
def server() -> Iterator[SandpitServer]:
    instance = SandpitServer(
        sandboxes_per_user="2",
        concurrent_runs_per_user="3",
        terminals_per_user="3",
        workspace_quota_bytes=str(WORKSPACE_QUOTA),
        run_storage_bytes=str(RUN_STORAGE),
        history_quota_bytes=str(HISTORY_QUOTA),
        signups_per_address=str(SIGNUPS),
    )
    instance.start()
    yield instance
    instance.close()


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def disk_bytes(directory: Path) -> int:
    """Bytes allocated under `directory` (sparse files count what they hold), no links followed."""
    total = 0
    for root, dirs, files in os.walk(directory):
        for name in (*dirs, *files):
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total


def loop_devices_of(directory: Path) -> dict[str, str]:
    """Loop devices whose backing file lies under `directory`: device -> backing file."""
    found = {}
    for backing in Path("/sys/block").glob("loop*/loop/backing_file"):
        try:
            path = backing.read_text().strip()
        except OSError:
            continue
        if path.startswith(str(directory)):
            found[backing.parent.parent.name] = path
    return found


def blobs(data_dir: Path) -> set[str]:
    """The names of the history blobs on disk (``blobs/<ab>/<sha256>``)."""
    return {path.name for path in (data_dir / "blobs").glob("*/*") if path.is_file()}


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def paths_naming(root: Path, names: set[str]) -> list[str]:
    """Paths under `root` with a part that contains one of `names` (mounts not entered)."""
    device = root.stat().st_dev
    found = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if os.lstat(os.path.join(directory, d)).st_dev == device]
        for entry in (*subdirs, *files):
            if any(name in entry for name in names):
                found.append(os.path.join(directory, entry))
    return found


def loop_until(deadline: float, body: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        while time.monotonic() < deadline:
            body()

    return run


def test_a_noisy_tenant_at_every_cap_leaves_the_server_and_a_bystander_whole(
    server: SandpitServer,
) -> None:
    assert server.process is not None
    pid = server.process.pid
    seen = Observed()
    bystander, hostile = User(server), User(server)
    mine = bystander.workspace("bystander")
    bystander.client.put(f"/api/workspaces/{mine}/files/notes.txt", content=b"n" * 4096)
    first = bystander.client.post(f"/api/workspaces/{mine}/runs?wait=true", json={"code": "1"})
    assert first.status_code == 200, first.text
    held = [hostile.workspace(f"held-{i}") for i in range(2)]
    spare = hostile.workspace("spare")
    # A content only the hostile user has, and one only the bystander has: each
    # becomes a history blob.
    theirs = f"hostile {hostile.id}".encode()
    put = hostile.client.put(f"/api/workspaces/{held[0]}/files/mine.txt", content=theirs)
    assert put.status_code in (200, 201), put.text
    their_blob, our_blob = (
        hashlib.sha256(theirs).hexdigest(),
        hashlib.sha256(b"n" * 4096).hexdigest(),
    )
    wait_for(lambda: {their_blob, our_blob} <= blobs(server.data_dir), "the history blobs")
    blobs_before = blobs(server.data_dir)
    data_before, rss_before = disk_bytes(server.data_dir), rss(pid)

    # At the caps: both sandboxes (one terminal each, one more in the first),
    # then one more terminal, one more sandbox, and a long run in each.
    for workspace in (held[0], held[0], held[1]):
        opened = hostile.client.post(f"/api/workspaces/{workspace}/terminals", json={})
        assert opened.status_code == 201, opened.text
    seen.note("one more terminal", hostile.client.post(f"/api/workspaces/{held[1]}/terminals"))
    more = hostile.client.post(f"/api/workspaces/{spare}/runs", json={"code": "1"})
    seen.note("one more sandbox", more)
    for workspace in held:
        started = hostile.client.post(f"/api/workspaces/{workspace}/runs", json={"code": LONG_RUN})
        assert started.status_code == 202, started.text

    peak = [rss_before]
    deadline = time.monotonic() + NOISE_S

    def hostile_runs(workspace: str) -> Callable[[], None]:
        def body() -> None:
            url = f"/api/workspaces/{workspace}/runs?wait=true"
            headers = hostile.client.headers
            with httpx.Client(base_url=server.url, headers=headers, timeout=120) as c:
                answer = c.post(url, json={"code": HOSTILE_RUN})
                seen.note("hostile run", answer)
                if answer.status_code == 429:
                    time.sleep(float(answer.headers["Retry-After"]))

        return body

    def listing() -> None:
        for workspace in held:
            seen.note("list runs", hostile.client.get(f"/api/workspaces/{workspace}/runs"))
        more = hostile.client.post(f"/api/workspaces/{spare}/runs", json={"code": "1"})
        seen.note("one more sandbox", more)
        time.sleep(0.2)

    def bystanding() -> None:
        with httpx.Client(base_url=server.url, headers=bystander.client.headers, timeout=60) as c:
            run = c.post(f"/api/workspaces/{mine}/runs?wait=true", json={"code": 'print("hi")'})
            read = c.get(f"/api/workspaces/{mine}/files/notes.txt")
        with seen.lock:
            if run.status_code != 200 or run.json()["stdout"] != "hi\n":
                seen.problems.append(f"bystander run: {run.status_code} {run.text[:200]}")
            if read.status_code != 200 or read.content != b"n" * 4096:
                seen.problems.append(f"bystander read: {read.status_code}")
            seen.bystander_runs += 1
            seen.bystander_reads += 1
        time.sleep(1.1)  # under the bystander's own runs-per-minute limit

    def signing_up() -> None:
        name = f"flood{os.urandom(6).hex()}"
        answer = httpx.post(
            f"{server.url}/api/auth/register",
            json={"username": name, "password": "correct horse battery"},
        )
        seen.note("sign up", answer)
        time.sleep(0.2)

    def sampling() -> None:
        peak[0] = max(peak[0], rss(pid))
        time.sleep(0.1)

    # Two hostile runs beside the two long ones: 4 asked for, 3 allowed.
    jobs = [hostile_runs(held[0]), hostile_runs(held[1]), listing, signing_up, bystanding]
    jobs.append(sampling)
    threads = [threading.Thread(target=loop_until(deadline, job)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=NOISE_S + 150)
    assert not any(thread.is_alive() for thread in threads)

    assert seen.problems == []
    assert seen.bystander_runs >= 5, seen.answers
    # The hostile user did get work done, and was refused by each cap, by name.
    assert seen.answers.get("hostile run 200", 0) >= 1, seen.answers
    sentences = set(seen.refusals)
    assert (
        "You already have 3 terminals open, the most one user may have at once; "
        "close one to open another." in sentences
    ), (sentences, seen.answers)
    assert any(s.startswith("You already have 2 sandboxes running") for s in sentences), sentences
    assert (
        "You already have 3 runs running, the most one user may have at once; "
        "wait for one to finish or stop it." in sentences
    ), (sentences, seen.answers)
    # Two of the address's sign-ups went to the fixture's users.
    assert seen.answers.get("sign up 201", 0) == SIGNUPS - 2, seen.answers
    assert any(
        s.startswith(f"Too many sign-ups from your address (at most {SIGNUPS} in 60 minutes)")
        for s in sentences
    ), sentences

    # The server's memory, the disk and the kernel's devices stayed within bounds.
    growth = peak[0] - rss_before
    assert growth < RSS_GROWTH_BOUND, f"server RSS grew {growth / MiB:.0f} MiB"
    # Run storage per workspace (runs/retention.py): RUN_STORAGE_BYTES of
    # finished runs, plus the newest finished run whatever its size, plus the
    # runs still running (one hostile run at a time per workspace here).
    runs_bound = RUN_STORAGE + 2 * HOSTILE_RUN_BYTES
    for workspace in (*held, mine):
        stored = disk_bytes(server.data_dir / "runs" / workspace)
        assert stored <= runs_bound, f"runs/ of a workspace holds {stored / MiB:.0f} MiB"
    workspaces = 4  # the bystander's and the hostile user's three
    grown = disk_bytes(server.data_dir) - data_before
    bound = workspaces * (WORKSPACE_QUOTA + runs_bound) + 2 * HISTORY_QUOTA
    assert grown <= bound, f"the data directory grew {grown / MiB:.0f} MiB"
    assert len(loop_devices_of(server.data_dir)) <= workspaces
    assert len(mounts_under(server.data_dir)) <= workspaces

    # The hostile user deletes their account: nothing of theirs is left.
    gone = hostile.client.request("DELETE", "/api/auth/me", json={"password": hostile.password})
    assert gone.status_code == 204, gone.text
    their_ids = {hostile.id, *held, spare}
    assert paths_naming(server.data_dir, their_ids) == []
    assert blobs(server.data_dir) <= blobs_before - {their_blob}
    assert our_blob in blobs(server.data_dir)
    trash = server.data_dir / "trash"
    assert not trash.exists() or list(trash.iterdir()) == []
    loops = loop_devices_of(server.data_dir).values()
    assert [path for path in loops if any(name in path for name in their_ids)] == []
    mounts = mounts_under(server.data_dir)
    assert [path for path in mounts if any(name in str(path) for name in their_ids)] == []
    root = server.env["CGROUP_ROOT"]
    assert list(Path("/sys/fs/cgroup").glob(f"*/{root}/user-{hostile.id}")) == []
    assert list(Path("/sys/fs/cgroup").glob(f"{root}/user-{hostile.id}")) == []
    bystander.close()
    hostile.close()
    print(f"noisy tenant: RSS +{growth / MiB:.0f} MiB, data +{grown / MiB:.0f} MiB, {seen.answers}")
