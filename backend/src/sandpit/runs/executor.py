"""Executing one run in a sandbox: output capture, input, plots, limits, and the status.

The status comes from facts: `timeout` from our own timer, `oom` from the
cgroup's OOM counter, `killed` from a signal or a stop, otherwise the exit
code (`ok` for 0, `error` for anything else). Output is capped: past
`output_bytes` the rest is read and dropped (`truncated`), and a program
that keeps flooding far beyond the cap is ended, so it cannot keep a host
core busy for the rest of its time limit.

Output goes into a `RunOutput` as it is read and input comes from a
`RunInput`, so the service can let clients follow the run and type into it
while it runs; neither ever makes the readers wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import struct
import time
from dataclasses import dataclass, field
from typing import Literal

from sandpit.runs.output import MAX_IMAGES, RunOutput
from sandpit.runs.stdin import RunInput
from sandpit.runs.transcript import Segment, segments_of
from sandpit.sandbox.base import ExecRequest, ExitStatus, Process, Sandbox

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 8 * 1024 * 1024
READ_CHUNK = 65536

RUNNER = "/run/sandpit/run_code.py"
STOPPED_MESSAGE = "The run was stopped."


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
    # The order it all came in (see `sandpit.runs.transcript`), and the input
    # typed into the run, as its console showed them.
    segments: list[Segment] = field(default_factory=list)
    typed: bytes = b""


async def execute(
    sandbox: Sandbox,
    group: str,
    request: RunRequest,
    output: RunOutput | None = None,
    stdin: RunInput | None = None,
    stop: asyncio.Event | None = None,
) -> RunOutcome:
    """Run `request` in `sandbox` in cgroup leaf `group`, wait for it, and describe how it went.

    Output is collected in `output` as it comes and input taken from
    `stdin` (by default: fresh ones, `request.stdin` then EOF). Setting
    `stop` ends the run like a limit does (`killed`), keeping everything it
    printed. Never raises for anything the program does; raises
    `SandboxError` if the sandbox cannot start the process at all.
    """
    output = output if output is not None else RunOutput(request.output_bytes)
    stdin = stdin if stdin is not None else RunInput(request.stdin, keep_open=False)
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
        return await _supervise(
            process, request, output, stdin, stop or asyncio.Event(), plot_r, code_w, started
        )
    finally:
        process.close()


async def _supervise(
    process: Process,
    request: RunRequest,
    output: RunOutput,
    stdin: RunInput,
    stop: asyncio.Event,
    plot_r: int,
    code_w: int,
    started: float,
) -> RunOutcome:
    flooded = asyncio.Event()
    assert process.stdout_fd is not None
    assert process.stderr_fd is not None
    # Input ends by closing the pipe (EOF for the program): the pump owns it.
    stdin_fd, process.stdin_fd = process.stdin_fd, None
    # Only the output readers: the run is over when they have read everything,
    # whatever became of its input.
    tasks = [
        asyncio.create_task(_read_stream(process.stdout_fd, "stdout", output, flooded)),
        asyncio.create_task(_read_stream(process.stderr_fd, "stderr", output, flooded)),
        asyncio.create_task(_read_plots(plot_r, output)),
    ]
    feeders = [asyncio.create_task(stdin.pump(stdin_fd))]
    if code_w >= 0:
        feeders.append(asyncio.create_task(_feed(code_w, (request.code or "").encode())))
    waiter = asyncio.create_task(process.wait())
    flood_waiter = asyncio.create_task(flooded.wait())
    stop_waiter = asyncio.create_task(stop.wait())
    try:
        return await _await_end(
            process,
            request,
            output,
            stdin,
            flooded,
            tasks,
            waiter,
            {flood_waiter, stop_waiter},
            started,
        )
    finally:
        # Before the caller closes the descriptors: a reader still registered
        # with the loop on a closed (and soon reused) descriptor breaks the
        # loop's later registrations of that number.
        pending = [*tasks, *feeders, waiter, flood_waiter, stop_waiter]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _await_end(
    process: Process,
    request: RunRequest,
    output: RunOutput,
    stdin: RunInput,
    flooded: asyncio.Event,
    tasks: list[asyncio.Task[None]],
    waiter: asyncio.Task[ExitStatus],
    enders: set[asyncio.Task[bool]],
    started: float,
) -> RunOutcome:
    """Wait for the process, a flood, a stop or the time limit; end the group; drain the output."""
    done, _ = await asyncio.wait(
        {waiter, *enders}, timeout=request.timeout_s, return_when=asyncio.FIRST_COMPLETED
    )
    ended_early = waiter not in done
    stopped = ended_early and not flooded.is_set() and bool(done)
    timed_out = ended_early and not done
    # Everything typed was handed over and more may come: the program was
    # (as far as the server can tell) waiting for input, which counts.
    waiting = timed_out and stdin.open and stdin.pending == 0
    # Ended early, or the main process ended: either way anything left in its
    # group (a daemon, a background job) ends with the run.
    await process.kill_group()
    status_of_exit: ExitStatus = await waiter
    for ender in enders:
        ender.cancel()
    # Readers finish once every writer (including killed daemons) is gone.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.gather(*tasks, return_exceptions=True)), 5)
    duration_ms = int((time.monotonic() - started) * 1000)
    status, message = _status(
        status_of_exit, timed_out, stopped, flooded.is_set(), process.oom_kills(), request
    )
    if waiting and status == "timeout":
        message = (
            f"The run passed its {request.timeout_s:g} s time limit while it waited for input "
            "and was stopped (time spent waiting for input counts)."
        )
    return RunOutcome(
        status=status,
        exit_code=status_of_exit.code,
        stdout=output.record("stdout"),
        stderr=output.record("stderr"),
        truncated=output.truncated,
        duration_ms=duration_ms,
        images=list(output.images),
        message=message,
        segments=segments_of(output),
        typed=output.typed,
    )


def _status(
    exit_status: ExitStatus,
    timed_out: bool,
    stopped: bool,
    flooded: bool,
    oom_kills: int,
    request: RunRequest,
) -> tuple[str, str | None]:
    if exit_status.error:
        return "error", f"The program could not be started: {exit_status.error}."
    if timed_out:
        return "timeout", f"The run passed its {request.timeout_s:g} s time limit and was stopped."
    if stopped:
        return "killed", STOPPED_MESSAGE
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


async def _read_stream(
    fd: int, stream: Literal["stdout", "stderr"], output: RunOutput, flooded: asyncio.Event
) -> None:
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
            output.add(stream, data)
            if output.flooding:
                flooded.set()
    finally:
        loop.remove_reader(fd)


async def _read_plots(fd: int, output: RunOutput) -> None:
    """Read length-prefixed PNGs; anything malformed ends the channel, never the server."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_IMAGE_BYTES + 16)
    protocol = asyncio.StreamReaderProtocol(reader)
    transport, _ = await loop.connect_read_pipe(lambda: protocol, os.fdopen(fd, "rb", buffering=0))
    try:
        while len(output.images) < MAX_IMAGES:
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
                output.add_image(data)
    finally:
        transport.close()


async def _feed(fd: int, data: bytes) -> None:
    """Write `data` to `fd` and close it; a reader that stops early is fine."""
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
