"""The sandbox backend contract: what every backend must do, run against each of them.

Each test takes `sandbox`, `sandboxes` or `backend` (see conftest.py), which
are parametrized over every backend in `HARNESSES`; host-side facts (which
host processes belong to a sandbox, who owns the files it writes, what is
left on the host) come from the backend's harness, never from the sandbox's
own word. The exploit suite (tests/exploits/) holds the attacks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import socket
from pathlib import Path

import pytest

from sandpit.sandbox.agent_sandbox import AgentSandbox
from sandpit.sandbox.base import EndReason, ExecRequest, Sandbox, SandboxBackend, SandboxError
from sandpit.sandbox.limits import Limits, MiB
from tests.sandbox.conftest import (
    SANDBOX_ENV,
    Harness,
    PtySession,
    Sandboxes,
    Started,
    Workspaces,
    run,
    run_ok,
    spec_for,
    wait_for,
)
from tests.servers import free_port

# --- start and stop ------------------------------------------------------------------


async def test_start_runs_a_program_and_stop_ends_the_sandbox(
    backend: SandboxBackend, workspaces: Workspaces, harness: Harness
) -> None:
    sandbox = await backend.start(spec_for(workspaces.new(), Limits()))
    assert sandbox.ended_reason is None
    assert harness.sandbox_exists_on_host(sandbox.id)
    assert await run_ok(sandbox, 'print("hi")') == "hi\n"

    await sandbox.stop()
    assert sandbox.ended_reason == EndReason.STOPPED
    assert await sandbox.wait_ended() == EndReason.STOPPED
    await sandbox.stop()  # idempotent
    assert sandbox.ended_reason == EndReason.STOPPED
    assert not harness.sandbox_exists_on_host(sandbox.id)


async def test_a_users_sandbox_sits_in_their_cgroup_which_goes_with_it(
    backend: SandboxBackend, workspaces: Workspaces, harness: Harness
) -> None:
    spec = dataclasses.replace(spec_for(workspaces.new(), Limits()), owner="ab12")
    sandbox = await backend.start(spec)
    assert isinstance(sandbox, AgentSandbox)
    assert sandbox.cgroup.group == "user-ab12"
    assert all(path.parent.name == "user-ab12" for path in sandbox.cgroup.paths)
    assert await run_ok(sandbox, 'print("hi")') == "hi\n"
    await sandbox.stop()
    groups = sandbox.cgroup.paths[0].parent
    assert wait_for(lambda: not groups.exists(), 10), "the user's cgroup stayed"


async def test_exec_after_stop_raises_sandbox_error(sandbox: Sandbox) -> None:
    await sandbox.stop()
    with pytest.raises(SandboxError):
        await sandbox.exec(ExecRequest(argv=["true"], env=dict(SANDBOX_ENV), group="run-late"))


# --- processes with pipes ----------------------------------------------------------------


async def test_stdout_stderr_and_exit_code(sandbox: Sandbox) -> None:
    result = await run(
        sandbox, 'import sys; print("to out"); print("to err", file=sys.stderr); sys.exit(3)'
    )
    assert (result.code, result.signal, result.error) == (3, None, None), str(result)
    assert (result.stdout, result.stderr) == (b"to out\n", b"to err\n")


async def test_a_process_killed_by_a_signal_reports_the_signal(sandbox: Sandbox) -> None:
    result = await run(sandbox, "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert (result.code, result.signal) == (None, signal.SIGTERM), str(result)


async def test_signal_from_the_host_reaches_the_process(sandbox: Sandbox) -> None:
    started = await Started.begin(
        sandbox, 'import time; print("waiting", flush=True); time.sleep(120)'
    )
    await started.stdout.wait_for(b"waiting", 10)
    await started.process.signal(signal.SIGINT)
    result = await started.finish(10)
    assert not result.timed_out
    # Python turns SIGINT into KeyboardInterrupt and then exits by re-raising the signal.
    assert result.signal == signal.SIGINT, str(result)
    assert b"KeyboardInterrupt" in result.stderr


async def test_stdin_reaches_the_process(sandbox: Sandbox) -> None:
    data = os.urandom(200_000).hex().encode()  # 400 kB: more than a pipe buffer
    result = await run(sandbox, ["cat"], stdin=data)
    assert result.code == 0, str(result)
    assert result.stdout == data


async def test_a_missing_program_exits_127_with_an_error(sandbox: Sandbox) -> None:
    for argv in (["no-such-program"], ["/app/no-such-program"]):
        result = await run(sandbox, argv)
        assert (result.code, result.signal) == (127, None), str(result)
        assert result.error is not None
        assert "No such file or directory" in result.error


# --- processes on a PTY ---------------------------------------------------------------


async def test_pty_is_a_terminal_with_the_requested_size(sandbox: Sandbox) -> None:
    code = (
        "import os; "
        "print('ttys', [os.isatty(fd) for fd in (0, 1, 2)], os.get_terminal_size(), "
        "os.getsid(0) == os.getpid(), os.tcgetpgrp(0) == os.getpgrp(), 'end')"
    )
    session = await PtySession.open(sandbox, ["python3", "-c", code], rows=33, cols=101)
    output = await session.read_until(b"end")
    assert b"ttys [True, True, True] os.terminal_size(columns=101, lines=33) True True" in output
    status = await session.close()
    assert (status.code, status.signal) == (0, None)


async def test_pty_resize_is_seen_by_stty(sandbox: Sandbox) -> None:
    session = await PtySession.open(sandbox, ["sh", "-i"], rows=33, cols=101)
    session.send(b"stty size\n")
    await session.read_until(b"33 101")
    session.resize(50, 120)
    session.send(b"stty size\n")
    await session.read_until(b"50 120")
    session.send(b"exit 7\n")
    status = await session.close()
    assert (status.code, status.signal) == (7, None)


async def test_pty_input_reaches_input(sandbox: Sandbox) -> None:
    session = await PtySession.open(
        sandbox, ["python3", "-c", "name = input('name? '); print('hello', name[::-1])"]
    )
    await session.read_until(b"name? ")
    session.send(b"sandpit\r")
    await session.read_until(b"hello tipdnas")
    status = await session.close()
    assert status.code == 0


# --- who and where a process is -------------------------------------------------------


async def test_processes_run_as_uid_1000_in_app_with_home_app(sandbox: Sandbox) -> None:
    code = (
        "import json, os; print(json.dumps([os.getuid(), os.geteuid(), os.getgid(), "
        "os.getegid(), os.getgroups(), os.getcwd(), os.environ['HOME'], "
        "os.path.expanduser('~')]))"
    )
    uid, euid, gid, egid, groups, cwd, home, expanded = json.loads(await run_ok(sandbox, code))
    assert [uid, euid, gid, egid, cwd, home, expanded] == [1000] * 4 + ["/app"] * 3
    # No supplementary group but the user's own (Docker always lists the
    # primary group there; bubblewrap lists none): `id` shows the same.
    assert set(groups) <= {1000}, groups


async def test_the_environment_is_exactly_what_was_passed(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDPIT_TEST_SERVER_SECRET", "server-secret-4f1d")
    env = {**SANDBOX_ENV, "SANDPIT_TEST_PASSED": "passed value"}
    result = await run(sandbox, ["env", "-0"], env=env)
    assert result.code == 0, str(result)
    seen = dict(item.split("=", 1) for item in result.out.split("\0") if item)
    assert seen == env
    # Nor does the sandbox's init or agent hold anything of the server's
    # (the agent is not dumpable, so its environ may not even be readable).
    code = (
        "import os\n"
        "def read(path):\n"
        "    try:\n"
        "        return open(path).read()\n"
        "    except PermissionError:\n"
        "        return '<unreadable>'\n"
        "print(repr(read('/proc/1/environ') + read(f'/proc/{os.getppid()}/environ')))\n"
    )
    environs = await run_ok(sandbox, code)
    assert "server-secret-4f1d" not in environs
    assert "SANDPIT_TEST_SERVER_SECRET" not in environs


# --- processes of one sandbox share a machine ----------------------------------------

SERVER = """
import socket
server = socket.create_server(("127.0.0.1", 0))
print("listening", server.getsockname()[1], flush=True)
connection, _ = server.accept()
connection.sendall(b"hello from the server")
print("got", connection.recv(100).decode(), flush=True)
"""

CLIENT = """
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as connection:
    connection.sendall(b"hello from the client")
    print(connection.recv(100).decode())
"""


async def test_two_processes_talk_over_loopback(sandbox: Sandbox) -> None:
    server = await Started.begin(sandbox, SERVER)
    output = await server.stdout.wait_for(b"\n", 10)
    port = output.split()[1].decode()
    assert await run_ok(sandbox, CLIENT, port) == "hello from the server\n"
    result = await server.finish(10)
    assert result.code == 0, str(result)
    assert result.out.endswith("got hello from the client\n")


async def test_listen_gives_the_server_a_listener_on_the_sandbox_loopback(
    sandbox: Sandbox,
) -> None:
    # How the package proxy's forwarder is socket-activated. The port is free
    # on the host: the listener must be in the sandbox's network, not there.
    port = free_port()
    listener = await sandbox.listen("127.0.0.1", port)
    try:
        with pytest.raises(SandboxError, match="could not listen"):
            await sandbox.listen("127.0.0.1", port)  # taken, in the sandbox
        with socket.create_server(("127.0.0.1", port)):
            pass  # and free on the host
        await run_ok(sandbox, CLIENT_SENDS, str(port))  # connects into the backlog
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(10)
            assert connection.recv(100) == b"hello from inside"
    finally:
        listener.close()


CLIENT_SENDS = """
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as connection:
    connection.sendall(b"hello from inside")
"""


async def test_two_processes_share_tmp(sandbox: Sandbox) -> None:
    await run_ok(sandbox, "open('/tmp/shared.txt', 'w').write('left by the first')")
    assert await run_ok(sandbox, ["cat", "/tmp/shared.txt"]) == "left by the first"


async def test_ps_in_one_process_lists_another(sandbox: Sandbox) -> None:
    sleeper = await Started.begin(
        sandbox, "import time; print('up', flush=True); time.sleep(120)  # marker-7c1e"
    )
    await sleeper.stdout.wait_for(b"up", 10)
    listing = await run_ok(sandbox, ["ps", "-eww", "-o", "pid,user,args"])
    assert "marker-7c1e" in listing
    assert "ps -eww -o pid,user,args" in listing
    result = await sleeper.kill()
    assert result.signal == signal.SIGKILL


# --- files --------------------------------------------------------------------------------


async def test_the_workspace_is_writable_and_owned_by_the_sandbox_on_the_host(
    sandboxes: Sandboxes, workspaces: Workspaces, harness: Harness
) -> None:
    workspace = workspaces.new()
    (workspace / "from-host.txt").write_text("put there before the start")
    sandbox = await sandboxes.start(workspace=workspace)
    code = (
        "import os; os.makedirs('/app/sub/dir'); open('/app/sub/dir/out.txt', 'w').write('hi'); "
        "st = os.stat('/app/from-host.txt'); print(st.st_uid, open('/app/from-host.txt').read())"
    )
    assert await run_ok(sandbox, code) == "1000 put there before the start\n"
    written = workspace / "sub" / "dir" / "out.txt"
    assert written.read_text() == "hi"
    owner = harness.host_uid(sandbox)
    assert owner != 0
    for path in (written, written.parent, workspace / "sub", workspace):
        assert path.stat().st_uid == owner, path


async def test_the_root_is_read_only(sandbox: Sandbox) -> None:
    code = """
import errno, os
for path in ("/usr/bin/python3", "/etc/passwd", "/new-file", "/usr/lib/new-file"):
    try:
        open(path, "a").close()
        print(path, "written")
    except OSError as error:
        print(path, errno.errorcode[error.errno])
root = [line.split() for line in open("/proc/self/mountinfo") if line.split()[4] == "/"]
print("root mount", root[-1][5].split(",")[0])
"""
    output = await run_ok(sandbox, code)
    assert "written" not in output
    assert "root mount ro" in output


# --- ending processes -------------------------------------------------------------------

# Forks a child and a double-forked daemon (setsid, re-parented to init), then waits.
FORKER = """
import os, sys, time
child = os.fork()
if child == 0:
    time.sleep(300)
    os._exit(0)
ready_r, ready_w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(ready_w, str(os.getpid()).encode())
        for fd in (0, 1, 2):
            os.close(fd)
        time.sleep(300)
    os._exit(0)
os.close(ready_w)
daemon = os.read(ready_r, 20).decode()
print(child, daemon, flush=True)
time.sleep(300)
"""


async def test_kill_group_ends_the_process_and_everything_it_forked(
    sandbox: Sandbox, harness: Harness
) -> None:
    before = set(harness.host_pids(sandbox))
    started = await Started.begin(sandbox, FORKER + "# marker-kill-group")
    pids = (await started.stdout.wait_for(b"\n", 10)).split()
    assert len(pids) == 2
    listing = await run_ok(sandbox, ["ps", "-eww", "-o", "pid,args"])
    assert listing.count("marker-kill-group") == 3  # the process, its child, the daemon
    assert len(set(harness.host_pids(sandbox)) - before) == 3

    result = await started.kill()
    assert result.signal == signal.SIGKILL
    listing = await run_ok(sandbox, ["ps", "-eww", "-o", "pid,args"])
    assert "marker-kill-group" not in listing
    assert set(harness.host_pids(sandbox)) == before


async def test_a_finished_process_leaves_no_group_behind(
    sandbox: Sandbox, harness: Harness
) -> None:
    await run_ok(sandbox, 'print("done")')
    started = await Started.begin(sandbox, FORKER)
    await started.stdout.wait_for(b"\n", 10)
    await started.kill()
    assert harness.process_groups(sandbox) == []


# Forks sleepers until the process limit refuses, then waits.
FILL_PIDS = """
import os, time
while True:
    try:
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
    except BlockingIOError:
        print("full", flush=True)
        time.sleep(300)
"""


async def test_a_refused_exec_raises_and_leaves_nothing_behind(
    sandboxes: Sandboxes, harness: Harness
) -> None:
    sandbox = await sandboxes.start(Limits(pids=10))
    filler = await Started.begin(sandbox, FILL_PIDS)
    await filler.stdout.wait_for(b"full", 10)
    for _ in range(3):
        with pytest.raises(SandboxError, match="could not start"):
            await sandbox.exec(
                ExecRequest(argv=["true"], env=dict(SANDBOX_ENV), group="run-refused")
            )
    await filler.kill()
    assert harness.process_groups(sandbox) == []
    assert await run_ok(sandbox, 'print("room again")') == "room again\n"


async def test_stats_report_usage_and_limits(sandbox: Sandbox) -> None:
    idle = await sandbox.stats()
    limits = Limits()
    assert idle.memory_limit_bytes == limits.memory_bytes
    assert idle.pids_limit == limits.pids
    assert idle.cpus == limits.cpus
    assert 0 < idle.memory_bytes < 64 * MiB
    assert 1 <= idle.pids < 10
    assert idle.oom_kills == 0
    assert idle.expires_at - idle.started_at == limits.lifetime_s

    holder = await Started.begin(
        sandbox,
        "import time; block = b'1' * (96 * 2**20); print('holding', flush=True); time.sleep(120)",
    )
    await holder.stdout.wait_for(b"holding", 20)
    busy = await sandbox.stats()
    assert busy.memory_bytes >= idle.memory_bytes + 96 * MiB
    assert busy.memory_bytes < limits.memory_bytes
    assert busy.pids == idle.pids + 1
    assert busy.cpu_seconds > idle.cpu_seconds
    await holder.kill()


async def test_stop_ends_every_process_and_removes_the_sandbox_from_the_host(
    sandbox: Sandbox, harness: Harness
) -> None:
    started = await Started.begin(sandbox, FORKER)
    await started.stdout.wait_for(b"\n", 10)
    pids = harness.host_pids(sandbox)
    # The agent (pid 1 inside), the process, its child, the daemon; bubblewrap
    # adds its own process outside the sandbox's PID namespace.
    assert len(pids) >= 4

    await asyncio.wait_for(sandbox.stop(), 30)
    assert sandbox.ended_reason == EndReason.STOPPED
    assert wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), 10)
    assert not harness.sandbox_exists_on_host(sandbox.id)
    result = await started.finish(10)
    assert result.signal == signal.SIGKILL


# The agent is pid 1: SIGKILL from inside its PID namespace cannot reach it
# (the next test), but SIGINT, which Python turns into KeyboardInterrupt, ends it.
AGENT_INTERRUPTED = "import os, signal, time; os.kill(1, signal.SIGINT); time.sleep(30)"


async def test_a_sandbox_whose_agent_ends_from_inside_ends_as_crashed(
    sandbox: Sandbox, harness: Harness
) -> None:
    assert (await run_ok(sandbox, "import os; print(os.getppid())")) == "1\n"
    # The run itself goes with the sandbox: its PID namespace ends with pid 1.
    result = await run(sandbox, AGENT_INTERRUPTED)
    assert result.signal == signal.SIGKILL, str(result)
    assert await asyncio.wait_for(sandbox.wait_ended(), 15) == EndReason.CRASHED
    with pytest.raises(SandboxError):
        await sandbox.exec(ExecRequest(argv=["true"], env=dict(SANDBOX_ENV), group="run-late"))
    with pytest.raises(SandboxError, match="ended unexpectedly"):
        await sandbox.stats()
    assert wait_for(lambda: not harness.sandbox_exists_on_host(sandbox.id), 10)


async def test_killing_init_from_inside_changes_nothing(sandbox: Sandbox) -> None:
    result = await run(sandbox, "import os, signal; os.kill(1, signal.SIGKILL); print('sent')")
    assert result.out == "sent\n", str(result)
    assert await run_ok(sandbox, 'print("still here")') == "still here\n"
    assert sandbox.ended_reason is None


# --- orphans of an earlier server ------------------------------------------------------


async def test_reap_orphans_removes_what_an_earlier_backend_object_left(
    harness: Harness, workspaces: Workspaces
) -> None:
    earlier = harness.make()  # the "previous server": dropped without stopping anything
    orphan = await earlier.start(spec_for(workspaces.new(), Limits()))
    daemon = await Started.begin(orphan, FORKER)
    await daemon.stdout.wait_for(b"\n", 10)
    orphan_pids = harness.host_pids(orphan)
    assert len(orphan_pids) >= 4  # the agent, the forker, its child, the daemon

    restarted = harness.make()
    own = await restarted.start(spec_for(workspaces.new(), Limits()))
    try:
        assert await restarted.reap_orphans() == [orphan.id]
        assert not harness.sandbox_exists_on_host(orphan.id)
        assert wait_for(lambda: not any(Path(f"/proc/{p}").exists() for p in orphan_pids), 10)
        # Its own sandbox is not an orphan.
        assert harness.sandbox_exists_on_host(own.id)
        assert await run_ok(own, 'print("kept")') == "kept\n"
        assert await restarted.reap_orphans() == []
        # The earlier object sees its sandbox end instead of hanging.
        assert await asyncio.wait_for(orphan.wait_ended(), 15) == EndReason.CRASHED
        await daemon.finish(10)
    finally:
        await restarted.close()
        await earlier.close()


async def test_reap_orphans_after_the_server_was_killed(
    harness: Harness, backend: SandboxBackend, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    server = harness.spawn_server(workspace, "killedserver1")
    try:
        assert server.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 60)
        assert ready == b"ready\n"
        assert harness.sandbox_exists_on_host("killedserver1")
    finally:
        server.kill()  # SIGKILL: no cleanup of any kind runs
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    assert await backend.reap_orphans() == ["killedserver1"]
    assert not harness.sandbox_exists_on_host("killedserver1")
    assert wait_for(lambda: not harness.leftovers(), 10), harness.leftovers()


async def test_processes_start_with_default_signal_dispositions_and_no_blocked_signals(
    sandbox: Sandbox,
) -> None:
    # As on a real machine: nothing the server or the agent ignores or blocks
    # (Python ignores SIGPIPE and SIGXFSZ) may reach user programs, or e.g. a
    # program over the file size limit fails with EFBIG instead of being killed.
    status = await run_ok(sandbox, ["grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"])
    assert status.split() == ["SigBlk:", "0000000000000000", "SigIgn:", "0000000000000000"]


def oom_score_adj(host_pid: int) -> int:
    return int(Path(f"/proc/{host_pid}/oom_score_adj").read_text())


async def test_user_processes_are_the_oom_killers_first_choice_before_the_agent(
    sandbox: Sandbox, harness: Harness
) -> None:
    # The agent keeps the default; everything started in the sandbox (and
    # what it forks) has the highest adjustment and cannot go below the
    # agent's. (Where the server has CAP_SYS_RESOURCE, 1000 is the floor too;
    # this test host lacks it, so only "not below the agent" is asserted.)
    code = (
        "import os\n"
        "print(open('/proc/self/oom_score_adj').read().strip(), flush=True)\n"
        "try:\n"
        "    with open('/proc/self/oom_score_adj', 'w') as f:\n"
        "        f.write('-1')\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__, flush=True)\n"
        "if os.fork() == 0:\n"
        "    print(open('/proc/self/oom_score_adj').read().strip(), flush=True)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
    )
    assert (await run_ok(sandbox, code)).split() == ["1000", "PermissionError", "1000"]
    agent_and_init = harness.host_pids(sandbox)
    started = await Started.begin(sandbox, "import time; time.sleep(30)")
    try:
        sleeper = harness.host_pid(started.process)
        assert oom_score_adj(sleeper) == 1000
    finally:
        await started.kill()
    assert {oom_score_adj(pid) for pid in agent_and_init} == {0}, "the agent and init keep 0"


async def test_no_process_can_reach_the_agents_channel_by_a_path(sandbox: Sandbox) -> None:
    # bubblewrap's agent inherits its socket; Docker's connects once to a
    # socket the server then removes. Either way user code finds nothing to
    # connect to, so it cannot pose as the agent.
    code = (
        "import os, socket\n"
        "print(sorted(os.listdir('/run/sandpit-agent')) if os.path.isdir('/run/sandpit-agent')"
        " else 'absent')\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
        "try:\n"
        "    s.connect('/run/sandpit-agent/agent.sock')\n"
        "except OSError as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    out = await run_ok(sandbox, code)
    assert out.splitlines()[-1] == "FileNotFoundError", out
    assert out.splitlines()[0] in ("absent", "[]"), out
