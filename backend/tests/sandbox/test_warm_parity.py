"""Parity: each program in warm_programs/ gives the same result warm and fresh.

Run both ways in the same sandbox, on every backend: stdout, stderr
(tracebacks with the user's file names and lines), exit code, status,
message and plots must be identical. The programs cover `__main__`, argv,
`__file__`, `sys.path`, random state, signals, input and EOF, exit codes,
exceptions, atexit, flushing at exit, fork, subprocess, threads,
multiprocessing, the time limit, the output cap and plots.
"""

from __future__ import annotations

from sandpit.runs.executor import RunOutcome
from tests.sandbox.conftest import Sandboxes, Workspaces
from tests.sandbox.warm_runs import copy_programs, is_warm, run_code, run_file, until_warm

STDIN = {"input_eof.py": b"alice\n", "streams.py": b"piped text\n"}
TIMEOUT_S = {"timeout.py": 2.0}
OUTPUT_BYTES = {"output_cap.py": 64 * 1024}


def _result(outcome: RunOutcome, plots: list[bytes]) -> dict[str, object]:
    return {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "stdout": outcome.stdout.decode(errors="replace"),
        "stderr": outcome.stderr.decode(errors="replace"),
        "truncated": outcome.truncated,
        "message": outcome.message,
        "images": outcome.images,
        "plots": plots,
    }


async def test_every_program_runs_the_same_warm_and_fresh(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    programs = copy_programs(workspace)
    await until_warm(sandbox, workspace)
    differences = {}
    for path in programs:
        results = []
        for warm in (True, False):
            plots: list[bytes] = []
            outcome = await run_file(
                sandbox,
                path,
                warm=warm,
                stdin=STDIN.get(path, b""),
                timeout_s=TIMEOUT_S.get(path, 60.0),
                output_bytes=OUTPUT_BYTES.get(path, 1024 * 1024),
                plots=plots,
            )
            assert is_warm(outcome) == warm, (path, outcome.interpreter)
            results.append(_result(outcome, plots))
        if results[0] != results[1]:
            differences[path] = results
    # One key at a time, so a failure shows the two values side by side.
    for path, (warm_result, fresh_result) in differences.items():
        for key in warm_result:
            assert warm_result[key] == fresh_result[key], (path, key)
    # The checked behaviours themselves, beyond "the same both ways".
    shown: list[bytes] = []
    plot = await run_file(sandbox, "plot.py", warm=True, plots=shown)
    assert plot.images == len(shown) == 2
    assert shown[0].startswith(b"\x89PNG")


async def test_a_code_string_runs_the_same_warm_and_fresh(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    code = (
        "import sys\nprint(__name__, sys.argv, __file__, sys.path[0])\n"
        "def f():\n    raise KeyError('k')\nf()\n"
    )
    warm = await run_code(sandbox, code, warm=True)
    fresh = await run_code(sandbox, code, warm=False)
    assert is_warm(warm)
    assert not is_warm(fresh)
    assert _result(warm, []) == _result(fresh, [])
    assert warm.stderr.decode().startswith('Traceback (most recent call last):\n  File "main.py"')
