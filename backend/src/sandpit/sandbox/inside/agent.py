"""The sandbox agent: the one long-lived process inside a sandbox that starts the others.

THIS FILE RUNS INSIDE THE SANDBOX, with the runtime image's Python, as the
sandbox user, under the sandbox's seccomp filter and limits. It must use the
standard library only and import nothing from `sandpit`.

It talks to the server over an inherited SOCK_SEQPACKET socket (fd given by
`SANDPIT_AGENT_FD`; no filesystem path, so nothing in the sandbox can swap
it), or, in a Docker container, over one it connects to at start
(`SANDPIT_AGENT_SOCKET`; the server takes one connection and removes the
path): one JSON message per packet, file descriptors alongside as SCM_RIGHTS.

Protocol (server → agent):
  {"op": "spawn", "id", "argv", "env", "cwd", "pty": bool, "rows", "cols"}
      with fds [stdin, stdout, stderr, extra...] when pty is false and
      [extra...] when it is true; extra fds become 3, 4, ... in the child
      (a run's code and its plot channel travel that way). The child is forked
      and held at a gate before exec; the reply is
      {"op": "spawned", "id", "pid"} with the PTY master fd when pty is true,
      or {"op": "failed", "id", "error"}.
      With "warm": {"preload": [modules]} (runs only: `python3 -- path` or
      the code runner), the agent forks the run from its warm interpreter
      instead when it can (`warm_keeper.py`), and "spawned" carries
      "interpreter": "warm", or "fresh" with "why" (and "detail", the
      shadowing path) when it could not. The first such run starts the
      warm interpreter once it has ended. With "release_if": pid as well
      (a spare the server has already confined, see "spare" below), a warm
      child that is that pid is released at once, without a "go", and
      "spawned" says "released": true.
  {"op": "go", "id"}            release the held child: it calls execve
                                (a warm child starts the program).
  {"op": "signal", "id", "signal", "group": bool}
  {"op": "listen", "id", "host", "port"}
      a listening TCP socket on the sandbox's own network, for the server to
      keep (the package proxy's forwarder is started on its first
      connection); the reply is {"op": "listening", "id"} with the socket's
      fd, or {"op": "failed", "id", "error"}.
  {"op": "ping"}                answered by {"op": "pong"}.
Agent → server, unprompted: {"op": "exited", "id", "code", "signal"} when a
child it spawned ends (a warm run's as soon as its process says how it
ends, just before the kernel tears it down: `warm_keeper.Keeper.on_end`),
{"op": "exec_failed", "id", "error"} when execve fails (then "exited" with
code 127 follows), and {"op": "spare", "pid"} when
the warm interpreter has forked the process its next run will be (held
until a run is handed to it; the server confines it in a run leaf ahead,
see `sandpit.sandbox.agent_spare`). There is one spare at a time: a new one
means the last one was handed a run or is gone.

Nothing the server learns from here is trusted beyond this sandbox: user code
runs as the same user and could replace this process. Facts that matter
(OOM kills, timeouts, resource use) come from the host's cgroups and timers.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import errno
import fcntl
import json
import os
import pty
import select
import signal
import socket
import struct
import sys
import termios
from typing import TYPE_CHECKING

# Started with -I, which leaves this file's directory off the path: our
# helpers beside it (read-only, like this file) are added explicitly.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if TYPE_CHECKING:
    from sandpit.sandbox.inside import userns
    from sandpit.sandbox.inside.warm_keeper import Keeper
else:
    import userns
    from warm_keeper import Keeper

MAX_MESSAGE = 256 * 1024
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
MAX_FDS = 6
LISTEN_BACKLOG = 64


class Agent:
    def __init__(self, channel: socket.socket) -> None:
        self.channel = channel
        self.children: dict[int, str] = {}  # pid -> spawn id
        self.gates: dict[str, tuple[int, int]] = {}  # spawn id -> (pid, gate write fd)
        self.pids: dict[str, int] = {}  # spawn id -> pid
        self.exec_errors: dict[str, int] = {}  # spawn id -> read end of its exec-error pipe
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wake_r = wake_r
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.keeper = Keeper(self.report_exit, self.report_spare)

    def send(self, message: dict[str, object], fds: list[int] | None = None) -> None:
        data = json.dumps(message).encode()
        ancillary = []
        if fds:
            ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes())]
        self.channel.sendmsg([data], ancillary)

    def run(self) -> None:
        while True:
            watched = [self.channel.fileno(), self.wake_r]
            warm = self.keeper.sock
            if warm is not None:
                watched.append(warm.fileno())
            end = self.keeper.end
            if end is not None:
                watched.append(end.fileno())
            ready, _, _ = select.select(watched, [], [], self.keeper.timeout())
            self.keeper.restart_if_due()
            # Ends a run reported itself come before the reaping (the same
            # run, reaped, is then not reported twice).
            if end is not None and end.fileno() in ready:
                self.keeper.on_end()
            if self.wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self.wake_r, 4096)
                self.reap()
            if warm is not None and warm.fileno() in ready and self.keeper.sock is warm:
                self.keeper.on_readable()
            if self.channel.fileno() in ready:
                message, fds = self.receive()
                if message is None:
                    return  # the server went away: the sandbox ends with us
                try:
                    self.handle(message, fds)
                finally:
                    for fd in fds:
                        os.close(fd)

    def receive(self) -> tuple[dict[str, object] | None, list[int]]:
        fds = array.array("i")
        data, ancillary, _flags, _addr = self.channel.recvmsg(
            MAX_MESSAGE, socket.CMSG_SPACE(MAX_FDS * fds.itemsize)
        )
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
        if not data:
            return None, list(fds)
        return json.loads(data), list(fds)

    def handle(self, message: dict[str, object], fds: list[int]) -> None:
        op = message.get("op")
        if op == "spawn":
            self.spawn(message, fds)
        elif op == "go":
            gate = self.gates.pop(str(message["id"]), None)
            if gate is not None:
                os.write(gate[1], b"g")
                os.close(gate[1])
        elif op == "signal":
            pid = self.pids.get(str(message["id"]))
            if pid is not None:
                sig = int(str(message["signal"]))
                try:
                    if message.get("group"):
                        os.killpg(pid, sig)
                    else:
                        os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        elif op == "listen":
            self.listen(message)
        elif op == "ping":
            self.send({"op": "pong"})

    def listen(self, message: dict[str, object]) -> None:
        request_id = str(message["id"])
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind((str(message["host"]), int(str(message["port"]))))
            listener.listen(LISTEN_BACKLOG)
        except OSError as exc:
            self.send({"op": "failed", "id": request_id, "error": os.strerror(exc.errno or 0)})
        else:
            self.send({"op": "listening", "id": request_id}, [listener.fileno()])
        finally:
            listener.close()  # the server holds it now; nothing here keeps a copy

    def spawn(self, message: dict[str, object], fds: list[int]) -> None:
        spawn_id = str(message["id"])
        argv = [str(a) for a in message["argv"]]  # type: ignore[attr-defined]
        env = {str(k): str(v) for k, v in message["env"].items()}  # type: ignore[attr-defined]
        cwd = str(message.get("cwd", "/app"))
        use_pty = bool(message.get("pty"))
        started: dict[str, object] = {}
        warm = message.get("warm")
        if isinstance(warm, dict) and not use_pty and len(fds) >= 3:
            preload = warm.get("preload")
            modules = [str(m) for m in preload] if isinstance(preload, list) else []
            self.keeper.configure(modules, env)
            self.keeper.run_started(spawn_id)
            release_if = message.get("release_if")
            if self.spawn_warm(spawn_id, argv, env, cwd, fds, started, release_if):
                return
        gate_r, gate_w = os.pipe2(os.O_CLOEXEC)
        # execve errors travel back through this pipe; a successful exec
        # closes it (O_CLOEXEC), which is how we tell the two apart.
        err_r, err_w = os.pipe2(os.O_CLOEXEC)
        master = -1
        try:
            if use_pty:
                master, slave = pty.openpty()
                os.set_inheritable(master, False)
                rows, cols = int(str(message.get("rows", 24))), int(str(message.get("cols", 80)))
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                stdio = [slave, slave, slave, *fds]
            else:
                if len(fds) < 3:
                    raise OSError(errno.EINVAL, "spawn without a PTY needs three fds")
                stdio = fds
            pid = os.fork()
        except OSError as exc:
            for fd in (gate_r, gate_w, err_r, err_w):
                os.close(fd)
            if master >= 0:
                os.close(master)
            self.keeper.run_ended(spawn_id)  # it never started
            self.send({"op": "failed", "id": spawn_id, "error": os.strerror(exc.errno or 0)})
            return
        if pid == 0:  # child
            self.child(argv, env, cwd, stdio, use_pty, gate_r, err_w)
        os.close(gate_r)
        os.close(err_w)
        if use_pty:
            os.close(stdio[0])
        self.children[pid] = spawn_id
        self.pids[spawn_id] = pid
        self.gates[spawn_id] = (pid, gate_w)
        # Read when the child exits: by then the pipe holds the execve
        # error, or nothing if exec succeeded.
        self.exec_errors[spawn_id] = err_r
        self.send(
            {"op": "spawned", "id": spawn_id, "pid": pid, **started}, [master] if use_pty else None
        )
        if master >= 0:
            os.close(master)

    def spawn_warm(
        self,
        spawn_id: str,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        fds: list[int],
        started: dict[str, object],
        release_if: object = None,
    ) -> bool:
        """Fork the run from the warm interpreter; False (and `started` says why) if not.

        If it is `release_if` (the spare the server has confined already),
        its gate opens at once and the answer says "released".
        """
        gate_r, gate_w = os.pipe2(os.O_CLOEXEC)
        try:
            pid, why, detail = self.keeper.fork(spawn_id, argv, env, cwd, [*fds, gate_r])
        finally:
            os.close(gate_r)
        if pid is None:
            os.close(gate_w)  # a child forked too late reads EOF at its gate and exits
            started.update(interpreter="fresh", why=why)
            if detail is not None:
                started["detail"] = detail[:300]
            return False
        self.pids[spawn_id] = pid
        answer: dict[str, object] = {"op": "spawned", "id": spawn_id, "pid": pid}
        if isinstance(release_if, int) and pid == release_if:
            os.write(gate_w, b"g")
            os.close(gate_w)
            answer["released"] = True
        else:
            self.gates[spawn_id] = (pid, gate_w)
        self.send({**answer, "interpreter": "warm"})
        return True

    @staticmethod
    def child(
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        stdio: list[int],
        use_pty: bool,
        gate_r: int,
        err_w: int,
    ) -> None:
        try:
            signal.set_wakeup_fd(-1)
            # Python ignores SIGPIPE and SIGXFSZ and we handle SIGCHLD: start
            # the program as a shell would, every disposition default and
            # nothing blocked.
            for sig in signal.valid_signals():
                if sig not in (signal.SIGKILL, signal.SIGSTOP):
                    with contextlib.suppress(OSError, ValueError):
                        signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            os.setsid()
            if use_pty:
                fcntl.ioctl(stdio[0], termios.TIOCSCTTY, 0)
            # Move the gate and error pipes out of the way of the target
            # numbers first, then place stdio and extras at 0, 1, 2, 3, ...
            gate_r = fcntl.fcntl(gate_r, fcntl.F_DUPFD_CLOEXEC, 64)
            err_w = fcntl.fcntl(err_w, fcntl.F_DUPFD_CLOEXEC, 64)
            moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in stdio]
            for target, fd in enumerate(moved):
                os.dup2(fd, target)  # dup2 clears O_CLOEXEC on the target
            low, high = sorted((gate_r, err_w))
            os.closerange(len(moved), low)
            os.closerange(low + 1, high)
            os.closerange(high + 1, 4096)
            os.read(gate_r, 1)  # held here until the server says "go"
            os.close(gate_r)
            os.chdir(cwd)
            if "/" in argv[0]:
                os.execve(argv[0], argv, env)  # noqa: S606 - argument lists, never a shell
            os.execvpe(argv[0], argv, env)  # noqa: S606
        except OSError as exc:
            os.write(err_w, f"{argv[0]}: {os.strerror(exc.errno or 0)}".encode()[:512])
        except BaseException:
            os.write(err_w, b"the process could not be started")
        os._exit(127)

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.keeper.reaped(pid, status):
                continue  # the warm interpreter, or a run it forked (reported)
            spawn_id = self.children.pop(pid, None)
            if spawn_id is None:
                continue  # an orphan re-parented to us; nothing to report
            err_r = self.exec_errors.pop(spawn_id, None)
            if err_r is not None:
                error = os.read(err_r, 512)
                os.close(err_r)
                if error:
                    text = error.decode("utf-8", "replace")
                    self.send({"op": "exec_failed", "id": spawn_id, "error": text})
            self.report_exit(spawn_id, status)
            # The first run that asked for a warm interpreter has ended: start it.
            self.keeper.maybe_start()

    def report_spare(self, pid: int) -> None:
        """Tell the server the warm interpreter forked a spare: the next warm run's process."""
        self.send({"op": "spare", "pid": pid})

    def report_exit(self, spawn_id: str, status: int | None) -> None:
        """Tell the server that `spawn_id` ended (`status` None: how is unknown, say SIGKILL)."""
        self.pids.pop(spawn_id, None)
        self.keeper.run_ended(spawn_id)
        gate = self.gates.pop(spawn_id, None)
        if gate is not None:
            os.close(gate[1])
        message: dict[str, object] = {"op": "exited", "id": spawn_id}
        code = os.waitstatus_to_exitcode(status) if status is not None else -signal.SIGKILL
        if code < 0:
            message.update(code=None, signal=-code)
        else:
            message.update(code=code, signal=None)
        self.send(message)


def _connect() -> socket.socket:
    """The channel to the server: an inherited socket (bubblewrap), or one to connect to.

    A Docker container cannot inherit a descriptor, so the server listens on
    a socket in a directory mounted read-only for this container, accepts
    exactly one connection (this one, made before any user code exists) and
    removes the socket file.
    """
    path = os.environ.get("SANDPIT_AGENT_SOCKET")
    if path:
        channel = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        channel.connect(path)
        return channel
    return socket.socket(fileno=int(os.environ.get("SANDPIT_AGENT_FD", "3")))


# rt_sigaction's number on the machines the server supports.
_SYS_RT_SIGACTION = {"x86_64": 13, "aarch64": 134}


def _reset_reserved_signals(libc: ctypes.CDLL) -> None:
    """Set signals 32 and 33 back to their default disposition, for every child.

    glibc reserves these two real-time signals and its sigaction refuses
    them, so ``signal.signal`` cannot. A parent may still have left them
    ignored (under Docker: whatever started the engine, as Go's runtime
    keeps an inherited disposition for them), and an ignored signal stays
    ignored across exec into every user program. The raw system call is what
    the bubblewrap launcher uses too.
    """
    number = _SYS_RT_SIGACTION.get(os.uname().machine)
    if number is None:
        return
    # All zero on every layout of the kernel's struct: SIG_DFL, no flags,
    # nothing masked.
    default = ctypes.create_string_buffer(32)
    for sig in (32, 33):
        libc.syscall(number, sig, default, None, 8)


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    # Docker only: uid 1000 of a user namespace of our own, unprivileged and
    # under the sandbox's seccomp filter, before anything else runs.
    userns.enter(libc)
    _reset_reserved_signals(libc)
    # Not dumpable: other processes of the sandbox user cannot read or write
    # the agent's memory through /proc (the kernel here may lack Yama).
    # Children get the flag back when they exec.
    with contextlib.suppress(OSError, AttributeError):
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        # Runs forked by the warm interpreter come to us if it dies before
        # them, so their exits are still reported.
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    channel = _connect()
    # The agent's own environment is not passed on: each spawn names its own.
    os.environ.clear()
    with contextlib.suppress(ConnectionError, BrokenPipeError):
        Agent(channel).run()
    sys.exit(0)


if __name__ == "__main__":
    main()
