"""A server for bench_run_overhead.py: `sandpit serve`, with timers around the run path.

Started as `python bench/run_overhead_probe.py` with the server's usual
environment plus `BENCH_TRACE_FILE`. Before the app is built it wraps, in
this process only, the calls a run request goes through, and for every
`POST .../runs` writes one JSON line of milliseconds to that file:

    app        the ASGI app, from the request's arrival to its last body byte sent
    after      the app's work after that (dependency clean-up: the session closed)
    start      RunService.start: admission, rate limits, the run's row inserted
    exec       AgentSandbox.exec: the agent's spawn round trip, warm fork, gate, go;
               within it: leaf (the run's cgroup leaf made), spawn (the agent's
               answer), find (its host pid), confine (moved into the leaf).
               A run forked from a spare confined ahead of it (sandbox/agent_spare.py)
               has no leaf, find or confine: that work was done before it came.
    execute    the executor: exec, then the program until its output is drained
    wait       the program's exit, as the agent reports it
    kill       what is left in the run's leaf killed (`kill_group`), after it
    remove     the run's cgroup leaf removed on the run's path (since the end
               report, after the answer, in threads of its own: not seen here)
    record     RunService._record: the finished run written, old runs pruned
    db         every AsyncSession call (execute, get, commit, refresh, ...) and
               AsyncConnection.execute, all phases
    db_<phase> the same, split by the phase it happened in

Nothing of the server's behaviour changes: each wrapper calls the original
and only reads the clock. Never used outside this benchmark.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from sandpit import app as app_module
from sandpit.runs import service as run_service
from sandpit.sandbox import agent_process, agent_sandbox, channel
from sandpit.sandbox.cgroups import base as cgroups_base
from sandpit.sandbox.cgroups import v1, v2

Trace = dict[str, Any]
_trace: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("trace", default=None)


def _add(trace: Trace, key: str, seconds: float) -> None:
    trace[key] = trace.get(key, 0.0) + seconds * 1000


def _timed(key: str, original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`original`, adding its time to `key` and naming the phase its DB calls fall in."""

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        trace = _trace.get()
        if trace is None:
            return await original(*args, **kwargs)
        outer = trace.get("phase", "request")
        trace["phase"] = key
        began = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _add(trace, key, time.perf_counter() - began)
            trace["phase"] = outer

    return wrapper


def _timed_sync(key: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """`original`, a blocking call (often in a worker thread), adding its time to `key`."""

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        trace = _trace.get()
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            if trace is not None:
                _add(trace, key, time.perf_counter() - began)

    return wrapper


def _db(original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """A session call, counted once even when it calls another (scalars calls execute)."""

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        trace = _trace.get()
        if trace is None or trace.get("in_db"):
            return await original(*args, **kwargs)
        trace["in_db"] = True
        began = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            spent = time.perf_counter() - began
            trace["in_db"] = False
            _add(trace, "db", spent)
            _add(trace, f"db_{trace.get('phase', 'request')}", spent)

    return wrapper


class _Traced:
    """ASGI: a trace per `POST .../runs`, written out when its answer is sent."""

    def __init__(self, app: Any, out: str) -> None:
        self.app = app
        self.out = out

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        traced = (
            scope["type"] == "http"
            and scope.get("method") == "POST"
            and str(scope.get("path", "")).endswith("/runs")
        )
        if not traced:
            await self.app(scope, receive, send)
            return
        trace: Trace = {}
        token = _trace.set(trace)
        began = time.perf_counter()

        async def timed_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                _add(trace, "app", time.perf_counter() - began)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _trace.reset(token)
            _add(trace, "after", time.perf_counter() - began - trace.get("app", 0.0) / 1000)
            trace.pop("phase", None)
            trace.pop("in_db", None)
            _append(self.out, json.dumps(trace))


def _append(path: str, line: str) -> None:
    with open(path, "a") as out:
        out.write(line + "\n")


def install(out: str) -> None:
    service = run_service.RunService
    service.start = _timed("start", service.start)  # type: ignore[method-assign]
    service._record = _timed("record", service._record)  # type: ignore[method-assign]
    run_service.execute = _timed("execute", run_service.execute)  # type: ignore[assignment]
    sandbox = agent_sandbox.AgentSandbox
    sandbox.exec = _timed("exec", sandbox.exec)  # type: ignore[method-assign]
    channel.AgentChannel.spawn = _timed("spawn", channel.AgentChannel.spawn)  # type: ignore[method-assign]
    agent_process.AgentProcess.wait = _timed("wait", agent_process.AgentProcess.wait)  # type: ignore[method-assign]
    agent_process.AgentProcess.kill_group = _timed("kill", agent_process.AgentProcess.kill_group)  # type: ignore[method-assign]
    agent_process.host_pid_of = _timed_sync("find", agent_process.host_pid_of)
    agent_process._confine = _timed_sync("confine", agent_process._confine)
    for kind in (v1.V1Sandbox, v2.V2Sandbox):
        kind.leaf = _timed_sync("leaf", kind.leaf)  # type: ignore[method-assign]
    cgroups_base.Leaf.remove = _timed_sync("remove", cgroups_base.Leaf.remove)  # type: ignore[method-assign]
    for name in ("execute", "get", "commit", "refresh", "scalars", "scalar", "flush", "connection"):
        setattr(AsyncSession, name, _db(getattr(AsyncSession, name)))
    # Statements run on a session's connection (`sandpit.runs.record.write`);
    # a session's own `execute` does not pass through here.
    AsyncConnection.execute = _db(AsyncConnection.execute)  # type: ignore[method-assign]
    create_app = app_module.create_app

    def traced_app(*args: Any, **kwargs: Any) -> Any:
        return _Traced(create_app(*args, **kwargs), out)

    app_module.create_app = traced_app  # type: ignore[assignment]


if __name__ == "__main__":
    install(os.environ["BENCH_TRACE_FILE"])
    from sandpit.cli import main

    sys.argv = ["sandpit", "serve"]
    raise SystemExit(main())
