"""Run a submission's automated checks in a fresh sandbox: `grade`.

The sandbox is the checks' own (never the student's): the submission's
files (`submission.copy_submission`) writable at /app, the harness and
placeholder paths of the tests read-only at `GRADER_MOUNT`, no package
proxy and no network. Two processes run in it, one after the other:
1. ruff (`--isolated`: a submission's ruff configuration is not read), JSON out;
2. the test process (harness/run.py, which says how it starts), given a
   memfd with the tests' sources and the run's nonce as descriptor 3, and
   the results pipe as descriptor 4. It runs under `timeout_s`; then its
   whole process group is killed.
What must be reported on is fixed before either runs (`discovery`), and
`scoring` turns the process's records into scores. The sandbox is stopped
and `work_dir`'s contents removed whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sandpit.grading import discovery, scoring, submission
from sandpit.grading.results import (
    LINT_LIMIT,
    RAW_OUTPUT_LIMIT,
    CheckResult,
    LintDiagnostic,
    Visibility,
)
from sandpit.grading.streams import BoundedReader
from sandpit.sandbox import cgroups
from sandpit.sandbox.base import (
    ExecRequest,
    ExitStatus,
    Process,
    Sandbox,
    SandboxBackend,
    SandboxError,
    SandboxSpec,
)
from sandpit.sandbox.environment import base_env
from sandpit.sandbox.limits import Limits

log = logging.getLogger(__name__)

HARNESS_DIR = Path(__file__).with_name("harness")
GRADER_MOUNT = "/run/sandpit-grader"
RESULTS_LIMIT = 4 * 1024 * 1024
RAW_OUTPUT_TAIL = 4096
LINT_OUTPUT_LIMIT = 4 * 1024 * 1024
LINT_TIMEOUT_S = 30.0
# After the test process has ended, how long its output may still take to arrive.
DRAIN_S = 2.0
SANDBOX_END_NOTICE_S = 1.0


async def grade(
    backend: SandboxBackend,
    *,
    submission_dir: Path,
    hidden_tests: Mapping[str, str],
    visible_tests: Mapping[str, str],
    limits: Limits,
    timeout_s: float,
    work_dir: Path,
    sandbox_id: str,
    owner: str,
    hidden_visibility: Visibility = "after_published",
) -> CheckResult:
    """Check the submission in `submission_dir` (never changed) against the tests (path → source).

    `work_dir` is a directory of the server's for this run only (made if
    missing, mode 0711, emptied afterwards); each of its parents must be
    searchable by an unprivileged uid, as the workspaces directory is.
    `hidden_visibility`: the visibility of hidden tests without a
    `visibility` mark. Returns a `done` result, or an `error` one with a
    sentence when the checks could not run at all (the sandbox did not
    start; a test file is not valid Python); never raises for anything the
    submission does.
    """
    try:
        files = _test_files(hidden_tests, visible_tests, hidden_visibility)
        expected = _expected(files)
    except discovery.TestFileError as exc:
        return CheckResult.failed(str(exc))
    await asyncio.to_thread(_make_work_dir, work_dir)
    app = work_dir / "app"
    grader = work_dir / "grader"
    try:
        notes = await asyncio.to_thread(
            _prepare,
            submission_dir,
            app,
            grader,
            files,
        )
        spec = SandboxSpec(
            sandbox_id=sandbox_id,
            workspace_id=f"check-{sandbox_id}",
            workspace_dir=app,
            limits=limits,
            owner=owner,
            read_only_mounts=((grader, GRADER_MOUNT),),
            package_proxy=False,
        )
        try:
            sandbox = await backend.start(spec)
        except SandboxError as exc:
            log.warning("checks %s: the sandbox did not start: %s", sandbox_id, exc)
            return CheckResult.failed(f"The checks could not run: {exc}")
        try:
            lint = await _lint(sandbox, visible_tests)
            sources = {f"{GRADER_MOUNT}/tests/{key}": file.source for key, file in files.items()}
            nonce = secrets.token_hex(16)
            data, raw, ending = await _test(sandbox, sources, nonce, timeout_s)
        except SandboxError as exc:  # it ended before a process could start in it
            log.warning("checks %s: the sandbox failed: %s", sandbox_id, exc)
            return CheckResult.failed(f"The checks could not run: {exc}")
        finally:
            await sandbox.stop()
    finally:
        await asyncio.to_thread(_empty, work_dir)
    records = scoring.parse_records(data, nonce)
    scored = scoring.score(expected, records, ending)
    disagreement = scoring.summary_note(raw, records, ending)
    if disagreement is not None:
        scored.notes.append(disagreement)
    return CheckResult(
        status="done",
        tests=tuple(scored.outcomes),
        lint=tuple(lint),
        notes=tuple(notes + scored.notes),
        raw_output=raw,
    )


@dataclass(frozen=True)
class TestFile:
    """One test file as the sandbox gets it: under an opaque name (`hidden/t0.py`)."""

    __test__ = False  # not a test class, for pytest

    path: str  # the assignment's name for it, shown in results
    source: str
    visibility: Visibility  # of its tests without a `visibility` mark


def _test_files(
    hidden: Mapping[str, str], visible: Mapping[str, str], hidden_visibility: Visibility
) -> dict[str, TestFile]:
    """Opaque name -> file. The assignment's file names never enter the sandbox."""
    files: dict[str, TestFile] = {}
    folders: tuple[tuple[str, Mapping[str, str], Visibility], ...] = (
        ("hidden", hidden, hidden_visibility),
        ("visible", visible, "visible"),
    )
    for folder, tests, default in folders:
        for index, (path, source) in enumerate(tests.items()):
            _check_path(path)
            files[f"{folder}/t{index}.py"] = TestFile(path, source, default)
    return files


def _expected(files: Mapping[str, TestFile]) -> list[tuple[str, str, discovery.ExpectedTest]]:
    """(node id pytest will give it, name shown, test) of every test, hidden ones first."""
    found = []
    for key, file in files.items():
        for test in discovery.expected_tests(file.path, file.source, file.visibility):
            inside = key + test.name.removeprefix(file.path)
            found.append((inside, test.name, test))
    return found


def _check_path(path: str) -> None:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not path.endswith(".py") or str(pure) != path:
        raise discovery.TestFileError(
            f"A test file's path is not a plain relative .py path: {path}"
        )


def _prepare(
    submission_dir: Path, app: Path, grader: Path, files: Mapping[str, TestFile]
) -> list[str]:
    """Make /app's copy and the read-only grader directory; return the copy's notes.

    Everything in the grader directory is root's and world-readable, never writable.
    """
    _empty(app.parent)
    names = submission.test_module_names(file.path for file in files.values())
    notes = submission.copy_submission(submission_dir, app, names)
    grader.mkdir(mode=0o755)
    shutil.copytree(HARNESS_DIR, grader / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    for key in files:
        # Empty placeholders: pytest collects paths; the sources come in the bundle.
        placeholder = grader / "tests" / key
        placeholder.parent.mkdir(parents=True, exist_ok=True)
        placeholder.touch()
    for directory, dirnames, filenames in os.walk(grader):
        for name in dirnames:
            os.chmod(Path(directory) / name, 0o755)  # noqa: S103 - read-only to the sandbox
        for name in filenames:
            os.chmod(Path(directory) / name, 0o644)
    os.chmod(grader, 0o755)  # noqa: S103 - read-only to the sandbox
    return notes


def _make_work_dir(work_dir: Path) -> None:
    work_dir.mkdir(parents=True, exist_ok=True, mode=0o711)
    os.chmod(work_dir, 0o711)  # noqa: S103 - searchable, not listable: bwrap binds from it


def _empty(directory: Path) -> None:
    for entry in ("app", "grader"):
        shutil.rmtree(directory / entry, ignore_errors=True)


def lint_argv(given: Iterable[str]) -> list[str]:
    """ruff's command line for /app, leaving out the files at the paths in `given`.

    `given`: the assignment's visible test files, which a student's
    workspace holds as the reviewer wrote them: they are not the student's
    work (the checks run the assignment's own copy), so their style is not
    the student's to answer for (ruff's defaults include import sorting,
    I001). Each is excluded by its exact path below /app, never by a bare
    name that would match elsewhere.
    """
    excluded = [f"--extend-exclude=./{_literal_glob(path)}" for path in given]
    options = ["--isolated", "--no-cache", "--exit-zero", "--output-format=json"]
    return ["ruff", "check", *options, *excluded, "."]


def _literal_glob(path: str) -> str:
    """`path` as a glob that matches it alone: each of ruff's glob characters in a class.

    A comma becomes `?`: ruff splits an option's value at commas, with no
    escape, so that one character is matched loosely.
    """
    return "".join(
        f"[{char}]" if char in "*?[]{}\\" else "?" if char == "," else char for char in path
    )


async def _lint(sandbox: Sandbox, given: Iterable[str]) -> list[LintDiagnostic]:
    """ruff's diagnostics for /app (rules: ruff's defaults, whatever the submission configures),
    but not for the files `given` (see `lint_argv`)."""
    argv = lint_argv(given)
    process = await sandbox.exec(ExecRequest(argv=argv, env=_env(), group="check-lint", cwd="/app"))
    # All of ruff's JSON or none: a cut document does not parse.
    out, _err, _ending = await _run(process, LINT_TIMEOUT_S, stdout_cap=LINT_OUTPUT_LIMIT)
    try:
        found = json.loads(out or b"[]")
    except ValueError:
        return []
    diagnostics = []
    for item in found[:LINT_LIMIT] if isinstance(found, list) else []:
        try:
            path = str(item["filename"]).removeprefix("/app/")
            location = item["location"]
            diagnostics.append(
                LintDiagnostic(
                    path=path,
                    line=int(location["row"]),
                    column=int(location["column"]),
                    code=str(item.get("code") or ""),
                    message=str(item["message"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return diagnostics


async def _test(
    sandbox: Sandbox, sources: dict[str, str], nonce: str, timeout_s: float
) -> tuple[bytes, str, scoring.Ending]:
    """Run the test process; its results channel's bytes, its output, and how it ended."""
    bundle = os.memfd_create("sandpit-checks", os.MFD_CLOEXEC)
    results_r, results_w = os.pipe2(os.O_CLOEXEC)
    try:
        os.write(bundle, json.dumps({"nonce": nonce, "tests": sources}).encode())
        os.lseek(bundle, 0, os.SEEK_SET)
        process = await sandbox.exec(
            ExecRequest(
                argv=["/usr/bin/python3", "-I", "-S", f"{GRADER_MOUNT}/harness/run.py"],
                env=_env(),
                group="check-tests",
                cwd="/app",
                extra_fds=[bundle, results_w],
            )
        )
    except BaseException:
        os.close(results_r)
        raise
    finally:
        os.close(bundle)
        os.close(results_w)
    results = BoundedReader(results_r, RESULTS_LIMIT)
    try:
        out, err, ending = await _run(process, timeout_s, extra=results)
    finally:
        results.close()
    if ending.signal is not None and not ending.timed_out and not ending.sandbox_ended:
        # Killed, not by us: if it went with the whole sandbox (its agent was
        # ended from inside), say that rather than the signal. The end is
        # noticed a moment after the process's.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sandbox.wait_ended(), SANDBOX_END_NOTICE_S)
            ending = dataclasses.replace(ending, sandbox_ended=True)
    raw = out.decode("utf-8", "replace")
    if err:
        raw += "\n--- stderr ---\n" + err.decode("utf-8", "replace")
    return results.data(), raw, ending


async def _run(
    process: Process,
    timeout_s: float,
    extra: BoundedReader | None = None,
    stdout_cap: int | None = None,
) -> tuple[bytes, bytes, scoring.Ending]:
    """Wait for `process` up to `timeout_s`, then kill its group; its output and how it ended.

    Output is kept bounded: head and tail (pytest's summary is last), or the
    first `stdout_cap` bytes of stdout when given. `extra` is drained too.
    """
    assert process.stdout_fd is not None
    assert process.stderr_fd is not None
    if process.stdin_fd is not None:
        os.close(process.stdin_fd)
        process.stdin_fd = None
    # The head and the tail of each: pytest's summary line comes last.
    readers = [
        BoundedReader(
            process.stdout_fd,
            stdout_cap or RAW_OUTPUT_LIMIT // 2,
            tail=0 if stdout_cap else RAW_OUTPUT_TAIL,
        ),
        BoundedReader(process.stderr_fd, RAW_OUTPUT_LIMIT // 4, tail=RAW_OUTPUT_TAIL),
    ]
    process.stdout_fd = process.stderr_fd = None
    timed_out = False
    status = ExitStatus(code=None, signal=None)
    ended = False
    try:
        try:
            status = await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            timed_out = True
            await _kill(process)
            with contextlib.suppress(SandboxError):
                status = await process.wait()
        except SandboxError:  # the sandbox ended under it (its agent was killed from inside)
            ended = True
        # Whatever it left running (holding the pipes open) goes too.
        await _kill(process)
        for reader in [*readers, *([extra] if extra else [])]:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.ended(), DRAIN_S)
    finally:
        for reader in readers:
            reader.close()
        process.close()
    ending = scoring.Ending(status.code, status.signal, timed_out, timeout_s, ended)
    return readers[0].data(), readers[1].data(), ending


async def _kill(process: Process) -> None:
    """Kill the process's whole group; nothing if the sandbox has already gone."""
    with contextlib.suppress(OSError, SandboxError, cgroups.CgroupError):
        await process.kill_group()


def _env() -> dict[str, str]:
    """A sandbox process's environment, without the proxy; matplotlib draws off-screen."""
    return {
        **base_env(package_proxy=False),
        "MPLBACKEND": "Agg",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
