"""The agent's side of the warm interpreter (`warm.py`): start it, fork from it, outlive it.

THIS FILE RUNS INSIDE THE SANDBOX, in the agent: standard library only.

When it starts (measured, see docs/architecture/warm-runs.md): after the
first run that asked for it has ended. A sandbox that only ever has
terminals never pays the ~100 MB of the preloaded libraries, the first run
is not slowed by imports competing for its CPU, and every later run is warm.

A run forks from it only when all of these hold, else it starts fresh and
the answer says why (`why`): the interpreter is ready (`starting`), the
run's environment is the one it started with (`environment`), nothing in
the workspace shadows a module it holds (`shadowed`, see `shadow.py`), it
is not stopped or dead, and the spare it forked ahead took the run or it
answered the fork itself within `FORK_TIMEOUT_S` (`unavailable`: it was
stopped or is stuck; it is killed and started again).

The runs it forks are handed to the agent at once (they are orphaned
through an intermediate process, and the agent is their subreaper), so the
agent reaps them and reports their exits like any other, whatever becomes
of the warm interpreter. If it dies (the OOM killer, user code killing it),
a new one is started after a delay that grows with repeated deaths.

A run's end is usually reported before it is reaped: its process sends its
exit status to the end socket (`on_end`) just before it exits (see
`warm._report_end`), and the kernel's teardown of its copy of the preload
set, milliseconds, comes after the report.
"""

import array
import contextlib
import json
import os
import re
import secrets
import select
import signal
import socket
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING or __package__:  # on the host (its tests): as part of the package
    from sandpit.sandbox.inside.shadow import ShadowCheck
else:
    from shadow import ShadowCheck

OWN_DIR = "/run/sandpit/"
WARM_SCRIPT = "/run/sandpit/warm.py"
RUNNER = "/run/sandpit/run_code.py"
PLOT_FD_VARIABLE = "SANDPIT_PLOT_FD"
FORK_TIMEOUT_S = 3.0
MAX_MESSAGE = 256 * 1024
# Restart delays after a death: the first at once, then doubling up to a minute.
RESTART_BASE_S = 0.5
RESTART_MAX_S = 60.0
DEATH_MEMORY_S = 300.0
# What a run's process sends to the end socket: its exit status (0-255).
END_MESSAGE = re.compile(rb"exit ([0-9]{1,3})")
END_MAX_READS = 64  # datagrams handled per wake-up; the rest wait for the next
UCRED = struct.Struct("iII")  # pid, uid, gid
PF_EXITING = 0x4  # a task's flag in /proc/<pid>/stat: it is in the kernel's exit


def job_of(argv: list[str]) -> tuple[str, str] | None:
    """("file", path) for `python3 -- path`, ("code", "") for the code runner, else None."""
    if len(argv) == 3 and argv[0] == "python3" and argv[1] == "--" and argv[2]:
        return "file", argv[2]
    if argv == ["python3", RUNNER]:
        return "code", ""
    return None


class Keeper:
    """One warm interpreter for the agent; see the module docstring.

    `report_exit(spawn_id, status)` is called for each forked run that ends
    (`status` a raw wait status, or None when it could not be known), and
    `report_spare(pid)` for each spare the interpreter forks ahead of a run.
    """

    def __init__(
        self,
        report_exit: Callable[[str, int | None], None],
        report_spare: Callable[[int], None] | None = None,
    ) -> None:
        self.report_exit = report_exit
        self.report_spare = report_spare
        self.preload: list[str] | None = None
        self.env: dict[str, str] | None = None
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.ready = False
        self.check: ShadowCheck | None = None
        self.user_site: str | None = None
        self.children: dict[int, str] = {}  # pid -> spawn id, forked by the interpreter
        # The spare the interpreter forked ahead of the next run: (pid, its socket).
        self.spare: tuple[int, socket.socket] | None = None
        self.restart_at: float | None = None
        self.deaths: list[float] = []
        # Runs (spawns that asked for warm) still running, fresh or warm: while
        # any runs, an interpreter still importing is held (SIGSTOP), so its
        # imports never take CPU from a run (they share the sandbox's quota).
        self.running: set[str] = set()
        self.held = False
        # Where runs report their end (see `on_end`), made with the first
        # interpreter; and the runs reported that way, not yet reaped.
        self.end: socket.socket | None = None
        self.end_name: str | None = None
        self.ended: set[int] = set()

    # --- lifecycle ------------------------------------------------------------

    def configure(self, preload: list[str], env: dict[str, str]) -> None:
        """Remember what to preload and the environment, from the first run that asks."""
        if self.preload is None:
            self.preload = [m for m in preload if m.replace(".", "").replace("_", "").isalnum()]
            self.env = {k: v for k, v in env.items() if k != PLOT_FD_VARIABLE}

    def run_started(self, spawn_id: str) -> None:
        """A run began: hold an interpreter that is still importing."""
        self.running.add(spawn_id)
        if self.pid is not None and not self.ready and not self.held:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGSTOP)
            self.held = True

    def run_ended(self, spawn_id: str) -> None:
        """A run ended: let a held interpreter import on if none is left."""
        self.running.discard(spawn_id)
        if not self.running:
            self._release()

    def _release(self) -> None:
        if self.held and self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)
        self.held = False

    def maybe_start(self) -> None:
        """Start the interpreter if it was asked for and none runs or is due to restart."""
        if self.preload is None or self.pid is not None:
            return
        if self.restart_at is not None and time.monotonic() < self.restart_at:
            return
        self.restart_at = None
        self._start()

    def restart_if_due(self) -> None:
        """Start a new interpreter if one died and its restart delay has passed."""
        if self.restart_at is not None and self.pid is None:
            self.maybe_start()

    def timeout(self) -> float | None:
        """Seconds until a due restart, for the agent's select; None when none is due."""
        if self.restart_at is None or self.pid is not None:
            return None
        return max(0.0, self.restart_at - time.monotonic())

    def _start(self) -> None:
        assert self.preload is not None
        assert self.env is not None
        if self.end is None:
            self._open_end()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = ["python3", WARM_SCRIPT, "3", ",".join(self.preload)]
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            self._died()
            return
        if pid == 0:
            try:
                for sig in signal.valid_signals():
                    if sig not in (signal.SIGKILL, signal.SIGSTOP):
                        with contextlib.suppress(OSError, ValueError):
                            signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, [])
                os.setsid()
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.dup2(theirs.fileno(), 3)
                os.closerange(4, 4096)
                os.execvpe(argv[0], argv, self.env)  # noqa: S606 - an argument list
            finally:
                os._exit(127)
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.ready = False
        self.held = False
        if self.running:  # a run is going on: import once it is over
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
            self.held = True

    def _open_end(self) -> None:
        """Bind the end socket: a datagram socket at a random abstract address, with senders' pids.

        Any process of the sandbox can send to it (the address is no secret:
        it is in /proc/net/unix); what counts is the pid the kernel stamps on
        each datagram, see `on_end`. Without it (the bind fails), runs are
        reported when reaped.
        """
        name = f"sandpit-end-{secrets.token_hex(8)}"
        end = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            end.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            end.bind(b"\0" + name.encode())
            end.setblocking(False)
        except OSError:
            end.close()
            return
        self.end = end
        self.end_name = name

    def on_end(self) -> None:
        """Report the runs whose process sent its exit status to the end socket.

        Believed only from the process forked for a run, once, and only while
        it is not reaped: the pid is the kernel's, so no other process can
        speak for a run. A run's own program can send it early; it can only
        end its own run that way (the host then kills the run's leaf), as it
        could by exiting. It is reaped later, silently (`reaped`).
        """
        assert self.end is not None
        for _ in range(END_MAX_READS):
            try:
                data, ancillary, _flags, _addr = self.end.recvmsg(16, socket.CMSG_SPACE(UCRED.size))
            except BlockingIOError:
                return
            except OSError:
                continue
            pid = -1
            for level, kind, payload in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = UCRED.unpack(payload[: UCRED.size])[0]
            match = END_MESSAGE.fullmatch(data)
            spawn_id = self.children.get(pid)
            if match is None or spawn_id is None or int(match[1]) > 255:
                continue
            del self.children[pid]
            self.ended.add(pid)
            self.report_exit(spawn_id, int(match[1]) << 8)  # a wait status: exited with it

    def kill(self) -> None:
        """Kill the interpreter (it is stuck); its death is handled when it is reaped."""
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.ready = False
            self.held = False

    def reaped(self, pid: int, status: int) -> bool:
        """Handle a child the agent reaped; True if it was ours (the interpreter or a run)."""
        if pid == self.pid:
            self._died()
            return True
        if pid in self.ended:  # its end was reported already (`on_end`)
            self.ended.discard(pid)
            return True
        spawn_id = self.children.pop(pid, None)
        if spawn_id is None:
            return False
        self.report_exit(spawn_id, status)
        return True

    def _died(self) -> None:
        self.pid = None
        self.ready = False
        self.held = False
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._drop_spare()
        now = time.monotonic()
        self.deaths = [t for t in self.deaths if now - t < DEATH_MEMORY_S] + [now]
        delay = min(RESTART_MAX_S, RESTART_BASE_S * 2 ** (len(self.deaths) - 1))
        self.restart_at = now + delay
        # Its runs are the agent's children (see warm.py), reaped by it: they
        # do not depend on this process.

    # --- messages ---------------------------------------------------------------

    def on_readable(self) -> None:
        """Handle what the interpreter sent (outside of a fork)."""
        message, fds = self._receive()
        if message is None:
            for fd in fds:
                os.close(fd)
            self.kill()  # it closed its end: it is dying; the reap finishes the job
            return
        self._handle(message, fds)

    def _receive(self) -> tuple[dict[str, object] | None, list[int]]:
        """A message from the interpreter and its descriptors (the caller's to close)."""
        assert self.sock is not None
        fds = array.array("i")
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(
                MAX_MESSAGE, socket.CMSG_SPACE(fds.itemsize), socket.MSG_CMSG_CLOEXEC
            )
        except OSError:
            return None, []
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        if not data:
            return None, list(fds)
        try:
            message = json.loads(data)
        except ValueError:
            return {}, list(fds)
        return (message if isinstance(message, dict) else {}), list(fds)

    def _handle(self, message: dict[str, object], fds: list[int]) -> None:
        """Act on a message; each of `fds` is kept or closed here."""
        if message.get("op") == "spare" and len(fds) == 1:
            pid = message.get("pid")
            if isinstance(pid, int) and pid > 0:
                self._drop_spare()  # one at a time: the newest is the one to use
                self.spare = (pid, socket.socket(fileno=fds[0]))
                if self.report_spare is not None:
                    self.report_spare(pid)
                return
        for fd in fds:
            os.close(fd)
        op = message.get("op")
        if op == "ready":
            names = message.get("names")
            if isinstance(names, list):
                self.check = ShadowCheck(frozenset(str(n) for n in names))
                user_site = message.get("user_site")
                self.user_site = user_site if isinstance(user_site, str) else None
                self.ready = True
                # Held only while it imports: a stop seen after this is not ours.
                self._release()

    # --- forking ------------------------------------------------------------------

    def fork(
        self, spawn_id: str, argv: list[str], env: dict[str, str], cwd: str, fds: list[int]
    ) -> tuple[int | None, str, str | None]:
        """Fork the run; (pid, "", None) or (None, why, detail) to start it fresh instead.

        `fds` are [stdin, stdout, stderr, extras..., gate read end]; the
        caller keeps and closes its copies.
        """
        job = job_of(argv)
        if job is None:
            return None, "not_python", None
        if not self.ready or self.sock is None or self.check is None:
            return None, "starting", None
        if {k: v for k, v in env.items() if k != PLOT_FD_VARIABLE} != self.env:
            return None, "environment", None
        kind, path = job
        dirs = [cwd]
        if kind == "file":
            dirs.insert(0, os.path.dirname(os.path.realpath(os.path.join(cwd, path))))
        # PYTHONPATH: the workspace's entries; ours (/run/sandpit, read-only) cannot change.
        dirs += [
            p
            for p in env.get("PYTHONPATH", "").split(":")
            if p and p != cwd and not p.startswith(OWN_DIR)
        ]
        hit = self.check.find(dirs, self.user_site)
        if hit is not None:
            return None, "shadowed", hit
        if not self._running():
            # Stopped (by user code: the same user may) or dead: its spare
            # would still serve, but a stopped interpreter serves no more.
            self.kill()
            return None, "unavailable", None
        message = {
            "op": "fork",
            "id": spawn_id,
            "kind": kind,
            "path": path,
            "cwd": cwd,
            "env": env,
            "argv": argv,
        }
        if self.end_name is not None:
            message["end"] = self.end_name
        data = json.dumps(message).encode()
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        pid = self._hand_to_spare(data, ancillary)
        if pid is not None:
            self.children[pid] = spawn_id
            return pid, "", None
        return self._fork_here(spawn_id, data, ancillary)

    def _hand_to_spare(self, data: bytes, ancillary: list[tuple[int, int, bytes]]) -> int | None:
        """Give the run to the waiting spare and ask for the next one; its pid, or None."""
        if self.spare is None or self.sock is None:
            return None
        pid, spare = self.spare
        self.spare = None
        try:
            spare.sendmsg([data], ancillary)
        except OSError:  # it died (killed by user code, or its interpreter went)
            return None
        finally:
            spare.close()
        with contextlib.suppress(OSError):  # a stuck interpreter: the next fork finds out
            self.sock.send(json.dumps({"op": "spare"}).encode(), socket.MSG_DONTWAIT)
        return pid

    def _running(self) -> bool:
        """Whether the interpreter is neither stopped (by anyone but us) nor dead nor dying.

        From /proc: its state, and its flags (killed, a process that maps the
        preload set takes a while to exit, and a run may come meanwhile: its
        spare would still serve it, but the interpreter is gone all the same).
        """
        if self.held:
            return True
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            state, flags = fields[0], int(fields[6])
        except (OSError, IndexError, ValueError):
            return False
        return state not in ("T", "t", "Z", "X") and not flags & PF_EXITING

    def _drop_spare(self) -> None:
        """Let go of the spare (it reads EOF and exits)."""
        if self.spare is not None:
            self.spare[1].close()
            self.spare = None

    def _fork_here(
        self, spawn_id: str, data: bytes, ancillary: list[tuple[int, int, bytes]]
    ) -> tuple[int | None, str, str | None]:
        """Ask the interpreter itself to fork the run (no spare at hand); see `fork`."""
        assert self.sock is not None
        try:
            self.sock.sendmsg([data], ancillary)
        except OSError:
            self.kill()
            return None, "unavailable", None
        deadline = time.monotonic() + FORK_TIMEOUT_S
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.sock], [], [], max(0.0, left))
            if not ready:
                self.kill()  # stopped or stuck: never wait for it again
                return None, "unavailable", None
            answer, fds = self._receive()
            if answer is None:
                for fd in fds:
                    os.close(fd)
                self.kill()
                return None, "unavailable", None
            if answer.get("op") == "forked" and answer.get("id") == spawn_id:
                for fd in fds:
                    os.close(fd)
                pid = answer.get("pid")
                if isinstance(pid, int) and pid > 0:
                    self.children[pid] = spawn_id
                    return pid, "", None
                return None, "unavailable", None  # it could not fork (out of processes)
            self._handle(answer, fds)
