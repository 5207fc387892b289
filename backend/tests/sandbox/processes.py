"""Running programs in a sandbox and reading their output (contract and exploit suites).

- `run(sandbox, program, *args, stdin=..., timeout=...)` runs a process with
  pipes and returns a `Result`; on timeout it kills the process's group.
- `Started` is the same for a process left running (a server, a sleeper).
- `PtySession` drives a process on a PTY (`send`, `read_until`, `resize`).

A program is Python source (run as `python3 -c`) or an argv. Every process
gets `SANDBOX_ENV` and a group of its own, as a run or a terminal does.
conftest.py re-exports these names for the modules that import them from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sandpit.sandbox.base import ExecRequest, ExitStatus, Process, Sandbox
from sandpit.sandbox.limits import MiB

# The environment the tests give every process (the runs service passes the same kind).
SANDBOX_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/app", "LANG": "C.UTF-8"}
# What `run` keeps of each output stream; the rest is read and dropped.
OUTPUT_CAP = 1 * MiB


@dataclass(frozen=True)
class Result:
    """How a process run by `run` ended and what it wrote (each stream capped at `OUTPUT_CAP`)."""

    code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    oom_kills: int
    timed_out: bool = False
    error: str | None = None
    stdout_total: int = 0  # bytes read from stdout, kept or dropped

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    def __str__(self) -> str:  # shown by failed asserts
        return (
            f"Result(code={self.code}, signal={self.signal}, timed_out={self.timed_out}, "
            f"error={self.error!r}, oom_kills={self.oom_kills},\n"
            f"  stdout={self.stdout[-2000:]!r},\n  stderr={self.stderr[-2000:]!r})"
        )


class Collector:
    """Reads a host-side fd (pipe or PTY master) on the event loop, keeping at most `cap` bytes."""

    def __init__(self, fd: int, cap: int = OUTPUT_CAP) -> None:
        self.fd = fd
        self.cap = cap
        self.data = bytearray()
        self.total = 0
        self.eof = asyncio.Event()
        self._grew = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)
        self._loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        for _ in range(16):
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:  # EIO: the PTY's other side is gone
                chunk = b""
            if not chunk:
                self.stop()
                return
            self.total += len(chunk)
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            self._grew.set()

    async def wait_for(self, needle: bytes, timeout: float) -> bytes:
        """Wait until `needle` has been read; return all kept so far. TimeoutError otherwise."""
        async with asyncio.timeout(timeout):
            while needle not in self.data:
                if self.eof.is_set():
                    raise AssertionError(f"output ended without {needle!r}: {bytes(self.data)!r}")
                self._grew.clear()
                grew = asyncio.ensure_future(self._grew.wait())
                ended = asyncio.ensure_future(self.eof.wait())
                try:
                    await asyncio.wait({grew, ended}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    grew.cancel()
                    ended.cancel()
        return bytes(self.data)

    def stop(self) -> None:
        """Stop reading (the fd stays open: its Process owns it)."""
        if not self.eof.is_set():
            self._loop.remove_reader(self.fd)
            self.eof.set()


def command(program: str | Sequence[str], args: Sequence[str]) -> list[str]:
    """A string is Python source, run as `python3 -c`; a list is an argv."""
    if isinstance(program, str):
        return ["python3", "-c", program, *args]
    return [*program, *args]


async def feed_stdin(process: Process, data: bytes) -> None:
    """Write `data` to the process's stdin, then close it (the helper owns stdin from here)."""
    fd = process.stdin_fd
    assert fd is not None
    os.set_blocking(fd, False)
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    try:
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                writable = loop.create_future()
                loop.add_writer(fd, writable.set_result, None)
                try:
                    await writable
                finally:
                    loop.remove_writer(fd)
    except BrokenPipeError:
        pass  # the process stopped reading: fine, it may not want its input
    finally:
        # Close and forget it, so the Process's close() cannot close a reused number.
        process.stdin_fd = None
        os.close(fd)


class Started:
    """A process started with pipes whose output is being collected in the background."""

    def __init__(self, process: Process, cap: int) -> None:
        self.process = process
        assert process.stdout_fd is not None
        assert process.stderr_fd is not None
        self.stdout = Collector(process.stdout_fd, cap)
        self.stderr = Collector(process.stderr_fd, cap)
        self._feeding: asyncio.Task[None] | None = None

    @classmethod
    async def begin(
        cls,
        sandbox: Sandbox,
        program: str | Sequence[str],
        *args: str,
        stdin: bytes | None = b"",
        env: dict[str, str] | None = None,
        cap: int = OUTPUT_CAP,
        group: str | None = None,
    ) -> Started:
        """Start `program`; `stdin` is written then closed (None: left open for `send`)."""
        process = await sandbox.exec(
            ExecRequest(
                argv=command(program, args),
                env=env if env is not None else dict(SANDBOX_ENV),
                group=group or f"run-{uuid.uuid4().hex[:12]}",
            )
        )
        started = cls(process, cap)
        if stdin is not None:
            started._feeding = asyncio.ensure_future(feed_stdin(process, stdin))
        return started

    async def finish(self, timeout: float) -> Result:
        """Wait up to `timeout` for the process and its output to end; then kill its group.

        Output is waited for after the exit too, because a child can hold
        the pipes open; when the deadline passes, the whole group is killed.
        """
        deadline = time.monotonic() + timeout
        timed_out = False
        try:
            status = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            timed_out = True
            await self.process.kill_group()
            status = await asyncio.wait_for(self.process.wait(), 15)
        for stream in (self.stdout, self.stderr):
            left = max(2.0, deadline - time.monotonic())
            try:
                await asyncio.wait_for(stream.eof.wait(), left)
            except TimeoutError:
                await self.process.kill_group()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.eof.wait(), 5)
        return await self._result(status, timed_out)

    async def _result(self, status: ExitStatus, timed_out: bool) -> Result:
        self.stdout.stop()
        self.stderr.stop()
        if self._feeding is not None:
            # Finished (or cancelled) before close(), which would close stdin under it.
            self._feeding.cancel()
            await asyncio.wait({self._feeding})
            if not self._feeding.cancelled():
                self._feeding.result()
        oom_kills = self.process.oom_kills()
        self.process.close()
        return Result(
            code=status.code,
            signal=status.signal,
            stdout=bytes(self.stdout.data),
            stderr=bytes(self.stderr.data),
            oom_kills=oom_kills,
            timed_out=timed_out,
            error=status.error,
            stdout_total=self.stdout.total,
        )

    async def has_ended(self, within: float = 0.1) -> bool:
        """Whether the process itself ended (waiting at most `within` seconds to find out)."""
        try:
            await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            return False
        return True

    async def kill(self) -> Result:
        """Kill the process's group now and collect what it wrote."""
        await self.process.kill_group()
        return await self.finish(15)


async def run(
    sandbox: Sandbox,
    program: str | Sequence[str],
    *args: str,
    stdin: bytes = b"",
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
    cap: int = OUTPUT_CAP,
) -> Result:
    """Run `program` (Python source, or an argv) to its end, as a run does, in its own group.

    Output beyond `cap` per stream is read and dropped. After `timeout`
    seconds every process of the run is killed (`Result.timed_out`).
    """
    started = await Started.begin(sandbox, program, *args, stdin=stdin, env=env, cap=cap)
    return await started.finish(timeout)


async def run_ok(
    sandbox: Sandbox, program: str | Sequence[str], *args: str, timeout: float = 30.0
) -> str:
    """`run`, asserting exit code 0; return stdout as text."""
    result = await run(sandbox, program, *args, timeout=timeout)
    assert result.code == 0, str(result)
    return result.out


class PtySession:
    """A process on a PTY: `send` keystrokes, `read_until` some output, `resize`, `close`."""

    def __init__(self, process: Process) -> None:
        assert process.pty_fd is not None
        self.process = process
        self.output = Collector(process.pty_fd)

    @classmethod
    async def open(
        cls, sandbox: Sandbox, argv: Sequence[str], *, rows: int = 24, cols: int = 80
    ) -> PtySession:
        process = await sandbox.exec(
            ExecRequest(
                argv=list(argv),
                env={**SANDBOX_ENV, "TERM": "xterm"},
                group=f"term-{uuid.uuid4().hex[:12]}",
                pty=True,
                rows=rows,
                cols=cols,
            )
        )
        return cls(process)

    def send(self, data: bytes) -> None:
        assert self.process.pty_fd is not None
        os.write(self.process.pty_fd, data)

    async def read_until(self, needle: bytes, timeout: float = 10.0) -> bytes:
        return await self.output.wait_for(needle, timeout)

    def resize(self, rows: int, cols: int) -> None:
        self.process.resize(rows, cols)

    async def close(self, timeout: float = 10.0) -> ExitStatus:
        """Wait for the process to end (killing its group after `timeout`), then release it."""
        try:
            status = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            await self.process.kill_group()
            status = await asyncio.wait_for(self.process.wait(), 15)
        self.output.stop()
        self.process.close()
        return status


def signal_name(number: int | None) -> str:
    return signal.Signals(number).name if number else "none"
