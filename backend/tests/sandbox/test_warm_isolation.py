"""Isolation: nothing a warm run does reaches the next run or the warm interpreter.

Every run forks from the same clean parent, so what one run changes in its
own memory (a monkeypatched function, a module global, `sys.modules`, a
thread) dies with it; what it leaves in the sandbox (a process) dies with
its cgroup leaf. The warm interpreter itself cannot be read, written or
made to run anything by user code; killing or stopping it only costs the
next run its warm start, and a new one comes. A memory bomb ends as `oom`
and the warm interpreter, the last pick of the OOM killer, survives it.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

from sandpit.sandbox.base import Sandbox
from tests.sandbox.conftest import Sandboxes, Workspaces
from tests.sandbox.warm_runs import PRELOAD, is_warm, run_file, until_warm

# Runs forked from it (and its spare) show its command line too: it is the
# oldest of those processes.
FIND_WARM = """
import os
def warm_pid():
    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"/run/sandpit/warm.py" in f.read():
                        with open(f"/proc/{pid}/stat") as s:
                            found[int(pid)] = int(s.read().rsplit(")", 1)[1].split()[19])
            except OSError:
                pass
    return min(found, key=found.get)
"""


async def _warm(sandbox: Sandbox, workspace: Path, name: str, program: str) -> str:
    (workspace / name).write_text(program)
    outcome = await run_file(sandbox, name, warm=True)
    assert is_warm(outcome), (name, outcome.interpreter)
    assert outcome.status == "ok", (name, outcome)
    return outcome.stdout.decode()


async def test_what_a_run_changes_does_not_reach_the_next(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    await _warm(
        sandbox,
        workspace,
        "dirty.py",
        "import sys, threading, time, subprocess, numpy, json\n"
        "numpy.sum = lambda *a, **k: 'patched'\n"
        "numpy.MARK = 1\njson.MARK = 1\n"
        "for i in range(2000):\n    sys.modules[f'junk{i}'] = sys\n"
        "threading.Thread(target=time.sleep, args=(600,), daemon=True, name='left').start()\n"
        "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "print(numpy.sum([1, 2]))\n",
    )
    after = await _warm(
        sandbox,
        workspace,
        "clean.py",
        "import sys, threading, os, numpy, json\n"
        "print(numpy.sum([1, 2]), hasattr(numpy, 'MARK'), hasattr(json, 'MARK'))\n"
        "print(sum(name.startswith('junk') for name in sys.modules))\n"
        "print([t.name for t in threading.enumerate()])\n"
        "sleeping = []\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        try:\n"
        "            cmd = open(f'/proc/{pid}/cmdline', 'rb').read()\n"
        "        except OSError:\n"
        "            continue\n"
        "        if cmd.startswith(b'sleep'):\n"
        "            sleeping.append(pid)\n"
        "print(sleeping)\n",
    )
    assert after == "3 False False\n0\n['MainThread']\n[]\n"
    # Runs after the first warm one are forked from a spare confined ahead of
    # them (sandpit.sandbox.agent_spare): each is still in a run leaf of its
    # own, away from the agent's, with the run's OOM score, from its first line.
    places = [
        await _warm(
            sandbox,
            workspace,
            "where.py",
            "print(open('/proc/self/oom_score_adj').read().strip())\n"
            "lines = [l.split(':', 2) for l in open('/proc/self/cgroup').read().split()]\n"
            "print(sorted({p.rsplit('/', 1)[1] for _, c, p in lines"
            " if c in ('memory', 'pids', '') and p != '/'}))\n",
        )
        for _ in range(2)
    ]
    # (Docker keeps the container's own cgroup in the hierarchies it manages alone.)
    leaves = [
        [leaf for leaf in ast.literal_eval(place.splitlines()[1]) if leaf.startswith("run-")]
        for place in places
    ]
    assert all(place.startswith("1000\n") and "agent" not in place for place in places), places
    assert len(leaves[0]) == len(leaves[1]) == 1, places
    assert leaves[0] != leaves[1], places


async def test_modules_are_a_fresh_interpreters_plus_the_preload_set_and_random_differs(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    (workspace / "fresh.py").write_text(
        "import sys\n"
        + "".join(f"import {name}\n" for name in PRELOAD)
        + "print('\\n'.join(sorted(sys.modules)))\n"
    )
    # The first run of the sandbox, so fresh (and, as it asks for warm, the one
    # that starts the warm interpreter when it ends): both then find
    # matplotlib's font cache as it built it (building it imports more codecs).
    fresh = await run_file(sandbox, "fresh.py", warm=True)
    assert fresh.interpreter is not None
    assert not fresh.interpreter.warm
    await until_warm(sandbox, workspace)
    warm_modules = await _warm(
        sandbox, workspace, "modules.py", "import sys\nprint('\\n'.join(sorted(sys.modules)))\n"
    )
    extra = set(warm_modules.split()) - set(fresh.stdout.decode().split())
    assert not extra, extra
    draws = [
        await _warm(
            sandbox,
            workspace,
            "draw.py",
            "import random, numpy\nprint(random.random(), numpy.random.rand())\n",
        )
        for _ in range(3)
    ]
    assert len(set(draws)) == 3, draws


async def test_a_run_cannot_reach_signal_or_keep_down_the_warm_interpreter(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    reach = await _warm(
        sandbox,
        workspace,
        "reach.py",
        FIND_WARM + "import signal\npid = warm_pid()\n"
        "for what in ('fd', 'mem', 'environ', 'oom_score_adj'):\n"
        "    try:\n"
        "        if what == 'fd':\n"
        "            os.listdir(f'/proc/{pid}/fd')\n"
        "        elif what == 'oom_score_adj':\n"
        "            open(f'/proc/{pid}/oom_score_adj', 'w').write('1000')\n"
        "        else:\n"
        "            open(f'/proc/{pid}/{what}', 'rb').read(1)\n"
        "        print(what, 'reached')\n"
        "    except OSError as exc:\n"
        "        print(what, type(exc).__name__)\n"
        "for name in ('SIGUSR1', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGCHLD'):\n"
        "    os.kill(pid, getattr(signal, name))\n"
        "print(pid > 0)\n",
    )
    assert reach == (
        "fd PermissionError\nmem PermissionError\nenviron PermissionError\n"
        "oom_score_adj PermissionError\nTrue\n"
    )
    # Those signals did nothing: the same interpreter forks the next run.
    pid_program = FIND_WARM + "print(warm_pid())\n"
    first = await _warm(sandbox, workspace, "pid.py", pid_program)
    assert await _warm(sandbox, workspace, "pid.py", pid_program) == first

    # Stopped: the next run starts fresh without an error, and a new one comes.
    (workspace / "stop.py").write_text(
        FIND_WARM + "import signal\nos.kill(warm_pid(), signal.SIGSTOP)\n"
    )
    assert (await run_file(sandbox, "stop.py", warm=True)).status == "ok"
    (workspace / "plain.py").write_text("print('plain')\n")
    after_stop = await run_file(sandbox, "plain.py", warm=True)
    assert (after_stop.status, after_stop.stdout) == ("ok", b"plain\n")
    assert after_stop.interpreter is not None
    assert (after_stop.interpreter.warm, after_stop.interpreter.why) == (False, "unavailable")
    await until_warm(sandbox, workspace)

    # Killed: the same.
    (workspace / "kill.py").write_text(
        FIND_WARM + "import signal\nos.kill(warm_pid(), signal.SIGKILL)\n"
    )
    assert (await run_file(sandbox, "kill.py", warm=True)).status == "ok"
    after_kill = await run_file(sandbox, "plain.py", warm=True)
    assert (after_kill.status, after_kill.stdout) == ("ok", b"plain\n")
    assert after_kill.interpreter is not None
    assert not after_kill.interpreter.warm
    await until_warm(sandbox, workspace)
    assert await _warm(sandbox, workspace, "pid.py", pid_program) != first


async def test_a_memory_bomb_ends_as_oom_and_the_next_run_is_warm(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    (workspace / "bomb.py").write_text(
        "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n"
    )
    bomb = await run_file(sandbox, "bomb.py", warm=True, timeout_s=120)
    assert is_warm(bomb)
    assert bomb.status == "oom", bomb
    started = time.monotonic()
    await until_warm(sandbox, workspace, deadline_s=60)
    # Reported, not asserted (no speed in tests): how long until warm again.
    print(f"warm again {time.monotonic() - started:.2f} s after the OOM kill")
