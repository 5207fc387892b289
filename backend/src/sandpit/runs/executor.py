"""Executing one run in a sandbox: output capture, plots, limits, and the status.

The status comes from facts: `timeout` from our own timer, `oom` from the
cgroup's OOM counter, `killed` from a signal or a stop, otherwise the exit
code (`ok` for 0, `error` for anything else). Output is capped: past
`output_bytes` the rest is read and dropped (`truncated`), and a program
that keeps flooding far beyond the cap is ended, so it cannot keep a host
core busy for the rest of its time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import time
from dataclasses import dataclass, field

from sandpit.sandbox.base import ExecRequest, ExitStatus, Process, Sandbox

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGES = 20
MAX_IMAGE_BYTES = 8 * 1024 * 1024
# Past this many times the cap, a flooding run is ended.
FLOOD_FACTOR = 16
READ_CHUNK = 65536

RUNNER = "/run/sandpit/run_code.py"


@dataclass(frozen=True)
class RunRequest:
    """What to run: a workspace path (`python3 <path>`) or a code string."""

    path: str | None
    code: str | None
    stdin: bytes
    timeout_s: float
    output_bytes: int
    env: dict[str, str]


@dataclass
class RunOutcome:
    status: str
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    truncated: bool
    duration_ms: int
    images: list[bytes] = field(default_factory=list)
    message: str | None = None


class _Capture:
    """stdout and stderr sharing one byte budget."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = 0
        self.seen = 0
        self.parts: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}

    def add(self, stream: str, data: bytes) -> None:
        self.seen += len(data)
        room = self.limit - self.kept
        if room > 0:
            piece = data[:room]
            self.parts[stream] += piece
            self.kept += len(piece)

    @property
    def truncated(self) -> bool:
        return self.seen > self.kept

    @property
    def flooding(self) -> bool:
        return self.seen > self.limit * FLOOD_FACTOR


async def execute(sandbox: Sandbox, group: str, request: RunRequest) -> RunOutcome:
    """Run `request` in `sandbox` in cgroup leaf `group`, wait for it, and describe how it went.

    Never raises for anything the program does; raises `SandboxError` if
    the sandbox cannot start the process at all.
    """
    plot_r, plot_w = os.pipe2(os.O_CLOEXEC)
    code_r, code_w = os.pipe2(os.O_CLOEXEC) if request.code is not None else (-1, -1)
    argv = (
        ["python3", RUNNER] if request.code is not None else ["python3", "--", request.path or ""]
    )
    env = dict(request.env, SANDPIT_PLOT_FD="3")
    extra = [plot_w] + ([code_r] if code_r >= 0 else [])
    started = time.monotonic()
    try:
        process = await sandbox.exec(ExecRequest(argv=argv, env=env, group=group, extra_fds=extra))
    except BaseException:
        for fd in (plot_r, code_w):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        for fd in (plot_w, code_r):
            if fd >= 0:
                os.close(fd)
    try:
        return await _supervise(process, request, plot_r, code_w, started)
    finally:
        process.close()


async def _supervise(
    process: Process, request: RunRequest, plot_r: int, code_w: int, started: float
) -> RunOutcome:
    capture = _Capture(request.output_bytes)
    images: list[bytes] = []
    flooded = asyncio.Event()
    assert process.stdout_fd is not None
    assert process.stderr_fd is not None
    # Feeding stdin ends by closing it (EOF for the program): the feeder owns it.
    stdin_fd, process.stdin_fd = process.stdin_fd, None
    tasks = [
        asyncio.create_task(_read_stream(process.stdout_fd, "stdout", capture, flooded)),
        asyncio.create_task(_read_stream(process.stderr_fd, "stderr", capture, flooded)),
        asyncio.create_task(_read_plots(plot_r, images)),
        asyncio.create_task(_feed(stdin_fd, request.stdin)),
    ]
    if code_w >= 0:
        tasks.append(asyncio.create_task(_feed(code_w, (request.code or "").encode())))
    waiter = asyncio.create_task(process.wait())
    flood_waiter = asyncio.create_task(flooded.wait())
    try:
        return await _await_end(
            process, request, capture, images, flooded, tasks, waiter, flood_waiter, started
        )
    finally:
        # Before the caller closes the descriptors: a reader still registered
        # with the loop on a closed (and soon reused) descriptor breaks the
        # loop's later registrations of that number.
        pending = [*tasks, waiter, flood_waiter]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _await_end(
    process: Process,
    request: RunRequest,
    capture: _Capture,
    images: list[bytes],
    flooded: asyncio.Event,
    tasks: list[asyncio.Task[None]],
    waiter: asyncio.Task[ExitStatus],
    flood_waiter: asyncio.Task[bool],
    started: float,
) -> RunOutcome:
    timed_out = False
    done, _ = await asyncio.wait(
        {waiter, flood_waiter}, timeout=request.timeout_s, return_when=asyncio.FIRST_COMPLETED
    )
    if waiter not in done:
        timed_out = flood_waiter not in done
        await process.kill_group()
    else:
        # The main process ended: anything it left behind in its group
        # (a daemon, a background job) ends with the run.
        await process.kill_group()
    status_of_exit: ExitStatus = await waiter
    flood_waiter.cancel()
    # Readers finish once every writer (including killed daemons) is gone.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.gather(*tasks, return_exceptions=True)), 5)
    duration_ms = int((time.monotonic() - started) * 1000)
    status, message = _status(
        status_of_exit, timed_out, flooded.is_set(), process.oom_kills(), request
    )
    return RunOutcome(
        status=status,
        exit_code=status_of_exit.code,
        stdout=bytes(capture.parts["stdout"]),
        stderr=bytes(capture.parts["stderr"]),
        truncated=capture.truncated,
        duration_ms=duration_ms,
        images=images,
        message=message,
    )


def _status(
    exit_status: ExitStatus, timed_out: bool, flooded: bool, oom_kills: int, request: RunRequest
) -> tuple[str, str | None]:
    if exit_status.error:
        return "error", f"The program could not be started: {exit_status.error}."
    if timed_out:
        return "timeout", f"The run passed its {request.timeout_s:g} s time limit and was stopped."
    if oom_kills > 0:
        return "oom", "The run used more memory than the sandbox allows and was stopped."
    if flooded:
        return "killed", "The run printed far more than the output limit and was stopped."
    if exit_status.signal is not None:
        name = signal.Signals(exit_status.signal).name if exit_status.signal < 65 else "a signal"
        return "killed", f"The run was ended by {name}."
    if exit_status.code == 0:
        return "ok", None
    return "error", None


async def _read_stream(fd: int, stream: str, capture: _Capture, flooded: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    try:
        while True:
            await readable.wait()
            readable.clear()
            try:
                data = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                continue
            if not data:
                return
            capture.add(stream, data)
            if capture.flooding:
                flooded.set()
    finally:
        loop.remove_reader(fd)


async def _read_plots(fd: int, images: list[bytes]) -> None:
    """Read length-prefixed PNGs; anything malformed ends the channel, never the server."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_IMAGE_BYTES + 16)
    protocol = asyncio.StreamReaderProtocol(reader)
    transport, _ = await loop.connect_read_pipe(lambda: protocol, os.fdopen(fd, "rb", buffering=0))
    try:
        while len(images) < MAX_IMAGES:
            try:
                header = await reader.readexactly(4)
            except asyncio.IncompleteReadError:
                return
            (size,) = struct.unpack(">I", header)
            if size > MAX_IMAGE_BYTES:
                return
            try:
                data = await reader.readexactly(size)
            except asyncio.IncompleteReadError:
                return
            if data.startswith(PNG_SIGNATURE):
                images.append(data)
    finally:
        transport.close()


async def _feed(fd: int | None, data: bytes) -> None:
    """Write `data` to `fd` and close it; a reader that stops early is fine."""
    if fd is None:
        return
    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)
    view = memoryview(data)
    try:
        while view:
            try:
                written = os.write(fd, view)
                view = view[written:]
            except BlockingIOError:
                writable = asyncio.Event()
                loop.add_writer(fd, writable.set)
                try:
                    await writable.wait()
                finally:
                    loop.remove_writer(fd)
            except (BrokenPipeError, OSError):
                return
    finally:
        os.close(fd)
