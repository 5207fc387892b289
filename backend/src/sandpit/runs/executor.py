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

from sandpit.fdio import read_chunks
from sandpit.fds import OwnedFd, owned_pipe
from sandpit.runs.output import MAX_IMAGES, RunOutput
from sandpit.runs.stdin import RunInput
from sandpit.runs.transcript import Segment, segments_of
from sandpit.sandbox.base import ExecRequest, ExitStatus, Interpreter, Process, Sandbox

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_IMAGE_BYTES = 8 * 1024 * 1024

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
    # The warm interpreter's preload set, to fork the run from it when the
    # sandbox can; None runs it fresh.
    warm: tuple[str, ...] | None = None


@dataclass
class RunOutcome:
    status: str
    exit_code: int | None
    stdout: bytes
    stderr: bytes
    truncated: bool
    duration_ms: int
    # How many plots the run showed, and their bytes (on disk already, or in
    # memory for an output without a plot directory: `sandpit.runs.plots`).
    images: int = 0
    plot_bytes: int = 0
    message: str | None = None
    # The order it all came in (see `sandpit.runs.transcript`), and the input
    # typed into the run, as its console showed them.
    segments: list[Segment] = field(default_factory=list)
    typed: bytes = b""
    # Which way Python started (None: the sandbox could not say, or never started it).
    interpreter: Interpreter | None = None


async def execute(
    sandbox: Sandbox,
    group: str,
    request: RunRequest,
    output: RunOutput | None = None,
    stdin: RunInput | None = None,
    stop: asyncio.Event | None = None,
    removals: list[asyncio.Future[None]] | None = None,
) -> RunOutcome:
    """Run `request` in `sandbox` in cgroup leaf `group`, wait for it, and describe how it went.

    Output is collected in `output` as it comes and input taken from
    `stdin` (by default: fresh ones, `request.stdin` then EOF). Setting
    `stop` ends the run like a limit does (`killed`), keeping everything it
    printed. Never raises for anything the program does; raises
    `SandboxError` if the sandbox cannot start the process at all.

    When the run ends, whatever is left of it is killed (`kill_group`: no
    process outlives its run). Its cgroup leaf is removed before this
    returns, or with `removals` in the background (the removal's future is
    appended, for the caller to await once it has used the outcome):
    removing a leaf waits for the kernel to finish the exits in it.
    """
    output = output if output is not None else RunOutput(request.output_bytes)
    stdin = stdin if stdin is not None else RunInput(request.stdin, keep_open=False)
    # Each pipe end has one owner. The sandbox's ends are closed here once
    # the agent has its copies; ours are closed in the `finally` below (the
    # code pipe earlier, by `_feed`, for EOF: the owner makes that once).
    plot_r, plot_w = owned_pipe()
    code_r, code_w = owned_pipe() if request.code is not None else (None, None)
    argv = (
        ["python3", RUNNER] if request.code is not None else ["python3", "--", request.path or ""]
    )
    env = dict(request.env, SANDPIT_PLOT_FD="3")
    theirs = [plot_w] + ([code_r] if code_r is not None else [])
    ours = [plot_r] + ([code_w] if code_w is not None else [])
    started = time.monotonic()
    try:
        try:
            process = await sandbox.exec(
                ExecRequest(
                    argv=argv,
                    env=env,
                    group=group,
                    extra_fds=[e.fd for e in theirs],
                    warm=request.warm,
                )
            )
        finally:
            for end in theirs:
                end.close()
        ended = False
        try:
            outcome = await _supervise(
                process, request, output, stdin, stop or asyncio.Event(), plot_r, code_w, started
            )
            ended = True  # and what was left of it killed (`_await_end`)
            return outcome
        finally:
            if removals is None or not ended:
                process.close()  # kills anything left first (a cancelled run's too)
            else:
                removals.append(process.close_in_background())
    finally:
        for end in ours:
            end.close()


async def _supervise(
    process: Process,
    request: RunRequest,
    output: RunOutput,
    stdin: RunInput,
    stop: asyncio.Event,
    plot_r: OwnedFd,
    code_w: OwnedFd | None,
    started: float,
) -> RunOutcome:
    flooded = asyncio.Event()
    assert process.stdout_fd is not None
    assert process.stderr_fd is not None
    # Input ends by closing the pipe (EOF for the program): it is handed
    # from the process to an owner of its own, which the pump closes (or,
    # if the pump never ran, the `finally` below).
    stdin_end = OwnedFd(process.stdin_fd) if process.stdin_fd is not None else None
    process.stdin_fd = None
    # Only the output readers: the run is over when they have read everything,
    # whatever became of its input.
    tasks = [
        asyncio.create_task(_read_stream(process.stdout_fd, "stdout", output, flooded)),
        asyncio.create_task(_read_stream(process.stderr_fd, "stderr", output, flooded)),
        asyncio.create_task(_read_plots(plot_r.fd, output)),
    ]
    feeders = [asyncio.create_task(stdin.pump(stdin_end))]
    if code_w is not None:
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
        if stdin_end is not None:
            stdin_end.close()


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
    # Everything typed was handed over, more may come, and none of its
    # processes is on (or waiting for) a CPU: it was (as far as the server
    # can tell) waiting for input, which counts. Without the last check an
    # interactive run that computed until the limit was said to be waiting.
    waiting = timed_out and stdin.open and stdin.pending == 0 and process.computing() is False
    # Ended early, or the main process ended: either way anything left in its
    # group (a daemon, a background job) ends with the run.
    await process.kill_group()
    status_of_exit: ExitStatus = await waiter
    for ender in enders:
        ender.cancel()
    # Readers finish once every writer (including killed daemons) is gone.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(asyncio.gather(*tasks, return_exceptions=True)), 5)
    # A plot still being written now is not waited for; the text held behind
    # it goes into the record.
    output.release()
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
        images=len(output.images),
        plot_bytes=output.images.bytes_stored,
        message=message,
        segments=segments_of(output),
        typed=output.typed,
        interpreter=process.interpreter,
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
    async with contextlib.aclosing(read_chunks(fd)) as chunks:
        async for data in chunks:
            output.add(stream, data)
            if output.flooding:
                flooded.set()


async def _read_plots(fd: int, output: RunOutput) -> None:
    """Read length-prefixed PNGs, up to `MAX_IMAGES`; anything malformed ends the
    channel, never the server. What comes after is read and dropped until EOF.

    Reads `fd` directly (the executor owns and closes it) rather than through
    a pipe transport: a transport made from a file object closes the
    descriptor itself, and under uvloop closes it a second time through the
    file object, which in a threaded server closes whatever file another
    thread was just given that number for.
    """
    buffer = bytearray()
    accepting = True
    async with contextlib.aclosing(read_chunks(fd)) as chunks:
        async for data in chunks:
            if not accepting:
                # Past the cap or a malformed frame: read and drop to the end.
                # Left unread, the pipe fills and the program blocks in show()
                # until its time limit.
                continue
            buffer += data
            pngs, well_formed = _take_pngs(buffer, MAX_IMAGES - len(output.images))
            for png in pngs:
                output.hold()  # what is printed meanwhile comes after the plot
                try:
                    await output.images.prepare(png)  # the file, written off the event loop
                    output.add_image(png)
                finally:
                    output.release()
            if not well_formed or len(output.images) >= MAX_IMAGES:
                accepting = False
                buffer.clear()


def _take_pngs(buffer: bytearray, room: int) -> tuple[list[bytes], bool]:
    """Take up to `room` whole PNGs from the front of `buffer` (other frames are
    dropped); answers them, and False if a frame is malformed."""
    pngs: list[bytes] = []
    while len(buffer) >= 4 and len(pngs) < room:
        (size,) = struct.unpack(">I", buffer[:4])
        if size > MAX_IMAGE_BYTES:
            return pngs, False
        if len(buffer) < 4 + size:
            break
        data = bytes(buffer[4 : 4 + size])
        del buffer[: 4 + size]
        if data.startswith(PNG_SIGNATURE):
            pngs.append(data)
    return pngs, True


async def _feed(end: OwnedFd, data: bytes) -> None:
    """Write `data` to `end` and close it (EOF); a reader that stops early is fine."""
    loop = asyncio.get_running_loop()
    fd = end.fd
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
            except OSError:  # the program closed its end, or ended
                return
    finally:
        end.close()
