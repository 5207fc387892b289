"""The warm interpreter: Python with the preload set imported, forked once per run.

THIS FILE RUNS INSIDE THE SANDBOX, with the runtime image's Python, as the
sandbox user, started by the agent with a run's environment:

    python3 /run/sandpit/warm.py CONTROL_FD MODULE[,MODULE...]

It imports the modules first (nothing of its own before them but `atexit`,
to register its quick exit first, see `_exit_quickly`; so what they leave
in `sys.modules` is what a fresh interpreter importing them would hold),
freezes them out of the collector's sight (`gc.freeze`), then serves the
agent on CONTROL_FD, a SOCK_SEQPACKET socket (one JSON message per packet,
descriptors as SCM_RIGHTS):

  agent → here  {"op": "fork", "id", "kind": "file"|"code", "path", "cwd",
                 "env", "argv"} with fds [stdin, stdout, stderr, plots,
                 (code), gate]; the child takes stdio and extras as 0, 1, 2,
                 3, ... and waits on the gate like every child the agent starts.
  here → agent  {"op": "ready", "names": [...], "user_site": ...} once, after
                 the imports: the top-level names a workspace file must not
                 shadow; then {"op": "forked", "id", "pid"} for each fork
                 (pid -1: it could not). The child is handed to the agent at
                 once (`_fork_orphan`), which reaps it like its own.
  here → agent  {"op": "spare", "pid"} with fd [socket]: a spare, a child
                 forked ahead of the next run and waiting for it on that
                 socket (`_new_spare`); the agent sends it the run's "fork"
                 message itself, so a run usually never comes here. One is
                 forked after the imports, after each "fork", and when the
                 agent asks:
  agent → here  {"op": "spare"}: it handed its spare a run.

The contract that keeps runs apart: this process only ever forks. It runs
no user code, imports nothing on request and keeps no state from a child
(a child never comes back). Every signal that can be ignored is ignored
(SIGCHLD keeps its default, which does nothing, so the waits for its
short-lived intermediates work), no handler of ours runs, and it is not
dumpable, so another process of the sandbox user can neither read or write
its memory or descriptors through /proc nor make it run anything; it can
only stop or kill it, which the agent notices and answers by starting
another one.

In a spare, while it waits for its run: random state reseeded, import
caches emptied and `sys.modules` cut back to the preload set (`_prepare`).
In a child, before the gate: descriptors in place and every other one
closed (this socket with them), signals and the signal mask as a fresh
interpreter has them, dumpable again, its own session. After the gate
(confined by then): the run's working directory, environment, standard
streams built as at start-up, `sys.argv`, `sys.orig_argv`, `sys.path` (the
user site as it is now); then the program runs as `__main__` (`mainrun`).
At its end, it tells the agent its exit status before the kernel tears the
process down (`_report_end`).

  agent → child  "fork" as above, with "end": the name of the agent's
                 end socket (an abstract AF_UNIX datagram address).
  child → agent  "exit STATUS", a datagram to it, just before `os._exit`.
"""

import atexit
import sys

# How a forked run ends: 0, an exit status, or "SIGINT" (an unhandled
# KeyboardInterrupt); set by `run`, used by `_exit_quickly`. None here.
_EXIT: list[int | str | None] = [None]
# Where a forked run tells the agent how it ended, and the pid that may:
# set at its gate (see `_report_end`). None here.
_END: list[tuple[bytes, int] | None] = [None]
# What a child lets go of (import caches, modules of its own) but keeps
# referenced: freeing them would write to, and so copy, the pages they share
# with this process, milliseconds of page faults on a run's path.
_KEPT: list[object] = []


def _exit_quickly() -> None:
    """The end of a forked run's interpreter, without tearing the preload set down.

    Registered first, so it is the last atexit handler: by then the
    interpreter has waited for the program's threads and run every other
    handler, as at any exit. What a fresh interpreter does next is then done
    for the program's own objects only: flush the standard streams (status
    120 if that fails), collect garbage, clear `__main__` as module teardown
    does (so `__del__` methods run), flush again and exit. Tearing down the
    ~780 preloaded modules instead would write to every shared page (copying
    ~100 MB) and take most of a second, for nothing anyone can see.
    """
    status = _EXIT[0]
    if status is None:
        return  # not a forked run
    # gc, os, signal, contextlib: imported below, after the preload set.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # as Python: the status says it
            if status == 0:
                status = 120
    gc.collect()
    main = sys.modules.get("__main__")
    if main is not None:
        namespace = main.__dict__
        for first in (True, False):  # as _PyModule_ClearDict: "_" names first
            for name in list(namespace):
                if name != "__builtins__" and name.startswith("_") == first:
                    namespace[name] = None
    gc.collect()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # nothing is left to tell
            stream.flush()
    if status == "SIGINT":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        status = 130
    _report_end(int(status))
    os._exit(int(status))


def _report_end(status: int) -> None:
    """Tell the agent the run ended with `status`, before the kernel tears the process down.

    The kernel frees a process's memory before it closes its descriptors
    and tells its parent; for a fork of the warm interpreter, which maps the
    whole preload set, that takes milliseconds, after the run is over. So the
    descriptors go first (the standard streams onto /dev/null, as a daemon
    thread may still write: EOF for the server's readers), then a datagram
    to the agent's end socket, which the kernel stamps with this process's
    pid: the agent takes it only from the process it forked for the run
    (`warm_keeper.Keeper.on_end`), reports the run's end at once and later
    reaps the process without reporting it again. Nothing is sent from a
    process the program forked (not the run's pid), and nothing runs after
    this (signals blocked, `os._exit` next). When the send fails (a full
    queue), the exit is reported when the process is reaped, as before.
    """
    end = _END[0]
    if end is None or end[1] != os.getpid():
        return
    with contextlib.suppress(OSError):
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.closerange(3, MAX_FD)
        # Left open: the exit closes it, and the sooner that comes the better.
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.sendto(f"exit {status}".encode(), socket.MSG_DONTWAIT, end[0])


atexit.register(_exit_quickly)

_PRELOAD = sys.argv[2].split(",") if len(sys.argv) > 2 else []
_FAILED = []
for _name in _PRELOAD:
    try:
        __import__(_name)
    except Exception:  # a module the image lacks is simply not preloaded
        _FAILED.append(_name)
# What a fresh interpreter that imported the preload set would hold.
_PRELOADED = frozenset(sys.modules)

import array  # noqa: E402 - only after the preload set, see above
import contextlib  # noqa: E402
import ctypes  # noqa: E402
import fcntl  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import site  # noqa: E402
import socket  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from sandpit.sandbox.inside import freshstate, mainrun
else:
    import freshstate  # beside this file (sys.path[0])
    import mainrun

MAX_MESSAGE = 256 * 1024
MAX_FDS = 6
# Above any descriptor a sandbox process may hold (its RLIMIT_NOFILE is far lower).
MAX_FD = 4096
# The longest name of the agent's end socket (an abstract address: 107 bytes).
MAX_END_NAME = 100
PR_SET_DUMPABLE = 4
RUNNER = "/run/sandpit/run_code.py"


class Job:
    """What a forked child runs: a workspace file, or a code string on descriptor 4."""

    def __init__(self, kind: str, path: str, cwd: str, argv: list[str]) -> None:
        self.kind = kind
        self.path = path
        self.cwd = cwd
        self.argv = argv


def _send(control: socket.socket, message: dict[str, object]) -> None:
    control.sendmsg([json.dumps(message).encode()])


def _receive(control: socket.socket) -> tuple[dict[str, object] | None, list[int]]:
    fds = array.array("i")
    data, ancillary, _flags, _addr = control.recvmsg(
        MAX_MESSAGE, socket.CMSG_SPACE(MAX_FDS * fds.itemsize), socket.MSG_CMSG_CLOEXEC
    )
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data:
        return None, list(fds)
    return json.loads(data), list(fds)


def _top_level_names() -> list[str]:
    return sorted({name.partition(".")[0] for name in _PRELOADED})


def serve(control_fd: int) -> Job:
    """Serve the agent until it goes (then exit); return only in a forked child."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    control = socket.socket(fileno=control_fd)
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
            with contextlib.suppress(OSError, ValueError):
                signal.signal(sig, signal.SIG_IGN)
    # Everything imported so far stays as it is in every child: out of the
    # collector's sight, a child's collections do not write to (and copy) it.
    gc.freeze()
    _send(
        control,
        {
            "op": "ready",
            "names": _top_level_names(),
            "user_site": site.getusersitepackages(),
            "failed": _FAILED,
        },
    )
    job = _new_spare(control, libc)
    while job is None:
        message, fds = _receive(control)
        if message is None:
            os._exit(0)  # the agent went away: the sandbox ends with it
        op = message.get("op")
        if op == "fork" and len(fds) >= 5:
            # No spare at hand in the agent (it died, or runs came faster than spares).
            pid = _fork_orphan(control)
            if pid == 0:
                return _child(message, fds, libc, prepared=False)
            for fd in fds:
                os.close(fd)
            _send(control, {"op": "forked", "id": message.get("id"), "pid": pid})
            job = _new_spare(control, libc)
        else:
            for fd in fds:
                os.close(fd)
            if op == "spare":  # the agent handed its spare a run: the next one
                job = _new_spare(control, libc)
    return job  # in a spare, now given its run


def _new_spare(control: socket.socket, libc: ctypes.CDLL) -> Job | None:
    """Fork a spare and hand it to the agent: None here, its Job in the spare.

    A spare is a child forked ahead of the next run, waiting for it on a
    socket of its own, whose other end goes to the agent: a run's start is
    then one message from the agent to the spare. (Forking ~100 MB twice
    takes tens of milliseconds on a busy machine.)
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = _fork_orphan(control, [ours])
    if pid == 0:
        _prepare()
        message, fds = _receive(theirs)
        os.close(theirs.detach())
        if message is None or message.get("op") != "fork" or len(fds) < 5:
            os._exit(0)  # never used: the agent moved on or died
        return _child(message, fds, libc, prepared=True)
    theirs.close()
    if pid > 0:
        # The server moves it into the leaf of the run it will be, before any
        # run arrives (see `sandpit.sandbox.agent_spare`): a run then starts confined.
        ancillary = [
            (socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [ours.fileno()]).tobytes())
        ]
        with contextlib.suppress(OSError):  # the agent is gone: so are we, soon
            control.sendmsg([json.dumps({"op": "spare", "pid": pid}).encode()], ancillary)
    ours.close()
    return None


def _fork_orphan(control: socket.socket, also_close: list[socket.socket] | None = None) -> int:
    """Fork a child that is not ours: 0 in the child, its pid (or -1) here.

    An intermediate process forks it and exits at once, so the child is
    handed to the agent (its subreaper), which reaps it and reports its exit
    like any other: nothing about a run's end depends on this process, which
    user code may stop or kill.
    """
    pid_r, pid_w = os.pipe2(os.O_CLOEXEC)
    child = -1
    try:
        middle = os.fork()
    except OSError:  # out of processes (the sandbox's limit): this run starts fresh
        os.close(pid_r)
        os.close(pid_w)
        return -1
    if middle == 0:
        try:
            child = os.fork()
            if child == 0:
                os.close(pid_r)
                os.close(pid_w)
                for sock in [control, *(also_close or [])]:
                    os.close(sock.detach())
                return 0
            os.write(pid_w, str(child).encode())
        except BaseException:  # nothing may return into the serving loop but the child
            if child == 0:
                os._exit(127)
        os._exit(0)
    os.close(pid_w)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(middle, 0)
    answer = os.read(pid_r, 32)
    os.close(pid_r)
    return int(answer) if answer.isdigit() else -1


def _prepare() -> None:
    """The part of a run's start that does not depend on the run, done in a spare before it.

    New random state (drawn now, in this process of its own); the import
    caches and our own modules let go (`_forget_imports`); and everything
    allocated so far frozen out of the collector's sight, so the collection
    at the run's end (`_exit_quickly`) looks at the program's objects only.
    """
    freshstate.reseed()
    _forget_imports()
    gc.freeze()


def _forget_imports() -> None:
    """The path importer cache emptied and `sys.modules` cut back to the preload set.

    A fresh interpreter has neither: the finders of the warm interpreter's
    start (with their directory listings) and the modules it imported for
    itself (json, socket, mainrun...). Both are kept referenced in `_KEPT`:
    the code below still uses the modules, and freeing the finders' listings
    touched a thousand shared pages (4 ms of a run).
    """
    _KEPT.append(dict(sys.path_importer_cache))
    sys.path_importer_cache.clear()
    ours = [name for name in sys.modules if name not in _PRELOADED]
    _KEPT.append([sys.modules.pop(name) for name in ours])


def _child(message: dict[str, object], fds: list[int], libc: ctypes.CDLL, *, prepared: bool) -> Job:
    """The forked child up to and past its gate; returns the job to run as `__main__`.

    `prepared`: `_prepare` was done already (in a spare, before its run came).
    """
    try:
        for sig in signal.valid_signals():
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                with contextlib.suppress(OSError, ValueError):
                    signal.signal(sig, signal.SIG_DFL)
        # As Python itself sets them at start-up.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
        os.setsid()
        *stdio, gate = fds
        gate = fcntl.fcntl(gate, fcntl.F_DUPFD_CLOEXEC, 64)
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in stdio]
        for target, fd in enumerate(moved):
            os.dup2(fd, target)
        os.closerange(len(moved), gate)
        os.closerange(gate + 1, 4096)
        if os.read(gate, 1) != b"g":
            os._exit(127)  # never released: the server could not confine us
        os.close(gate)
    except BaseException:  # nothing may escape into the serving loop's frames
        os._exit(127)
    if not prepared:
        _prepare()
    end = message.get("end")
    if isinstance(end, str) and 0 < len(end) <= MAX_END_NAME and end.isascii():
        _END[0] = (b"\0" + end.encode(), os.getpid())
    env = message.get("env")
    wanted = {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}
    freshstate.set_environ(wanted)
    cwd = str(message.get("cwd", "/app"))
    os.chdir(cwd)
    freshstate.new_stdio()
    kind = str(message.get("kind"))
    path = str(message.get("path", ""))
    argv = [str(a) for a in message.get("argv", [])]  # type: ignore[attr-defined]
    sys.orig_argv = argv
    if kind == "code":
        sys.argv = ["main.py"]
        path0 = "/app"
    else:
        sys.argv = [path]
        path0 = os.path.dirname(os.path.realpath(os.path.join(cwd, path)))
    freshstate.fix_path(path0)
    _forget_imports()  # again: for anything imported since `_prepare`
    return Job(kind, path, cwd, argv)


def run(job: Job) -> None:
    """Run the job as `__main__` (exceptions reach the top level, see `mainrun`).

    Records how it ended for `_exit_quickly`, as the interpreter would exit.
    """
    _EXIT[0] = 0
    try:
        _run(job)
    except SystemExit as exc:
        code = exc.code
        _EXIT[0] = 0 if code is None else (code & 0xFF if isinstance(code, int) else 1)
        raise
    except KeyboardInterrupt:
        _EXIT[0] = "SIGINT"
        raise
    except BaseException:
        _EXIT[0] = 1
        raise


def _run(job: Job) -> None:
    if job.kind == "code":
        with open(4, "rb", closefd=True) as source:
            code = source.read()
        mainrun.run_as_main(code, "main.py")
        return
    filename = os.path.normpath(os.path.join(job.cwd, job.path))
    try:
        with open(filename, "rb") as source:
            text = source.read()
    except OSError as exc:
        error = f"[Errno {exc.errno}] {exc.strerror}"
        sys.stderr.write(f"python3: can't open file {filename!r}: {error}\n")
        sys.stderr.flush()
        os._exit(2)
    mainrun.run_as_main(text, filename)


if __name__ == "__main__":
    mainrun.add_own_file(__file__)
    run(serve(int(sys.argv[1])))
