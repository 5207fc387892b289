"""The seam around process spawning for image builds: run a command, stream its output."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

Progress = Callable[[str], None]

# dpkg's percentage counter: one line per 5%, for every package.
_NOISE = re.compile(r"^\(Reading database \.\.\. +\d+%$")


class ImageBuildError(Exception):
    """The image could not be built; the message says which step failed and why."""


class CommandRunner(Protocol):
    """The seam around process spawning: run `argv`, stream its output, fail loudly.

    Returns standard output when `capture` is true (standard error is still
    streamed), else an empty string. Raises ImageBuildError on a non-zero exit.
    """

    def __call__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        progress: Progress,
        capture: bool = False,
    ) -> str: ...


def run_command(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    progress: Progress,
    capture: bool = False,
) -> str:
    """The real CommandRunner: a child process with exactly `env` as its environment."""
    tail: list[str] = []

    def show(line: str) -> None:
        line = line.rstrip()
        if line and not _NOISE.match(line):
            tail.append(line)
            del tail[:-30]
            progress(f"    {line}")

    # argv comes from plan's pure functions, never from a shell string or a user.
    try:
        process = subprocess.Popen(  # noqa: S603
            list(argv),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture else subprocess.STDOUT,
            text=True,
            errors="replace",
            # Whatever the caller's umask, what a build writes must be readable
            # by the unprivileged users that sandboxes run as.
            umask=0o022,
        )
    except FileNotFoundError as exc:
        raise ImageBuildError(f"{argv[0]} is not installed") from exc
    with process:
        if capture:
            output, errors = process.communicate()
            for line in errors.splitlines():
                show(line)
        else:
            output = ""
            assert process.stdout is not None
            for line in process.stdout:
                show(line)
        code = process.wait()
    if code != 0:
        last = "\n".join(tail[-15:])
        raise ImageBuildError(f"{argv[0]} exited with status {code}; its last output:\n{last}")
    return output
