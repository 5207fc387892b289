"""Fail the pass on any skip that is not on the allowlist below.

The suite's rule is "fail, never skip": a test that cannot run here says so
by failing, so that a broken image build, a missing tool or a missing
privilege shows as red instead of as a quiet row of `s`. The only skips that
pass are the ones in `ALLOWED`, each with the reason it is allowed and the
host condition under which it is: the same skip on a host where the
condition does not hold fails the pass too.

Every skip, allowed or not, is listed in the terminal summary (`-ra`); the
unexpected ones again under their own heading, and the exit status becomes 1.
"""

from __future__ import annotations

import fnmatch
import functools
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from _pytest.terminal import TerminalReporter

# Skip reports from setup and from collection (a module-level skip) alike.
Report = pytest.TestReport | pytest.CollectReport


@functools.cache
def cgroup_v1_mounted() -> bool:
    """Whether any cgroup v1 hierarchy is mounted (a v1 or a hybrid host)."""
    mounts = Path("/proc/self/mounts").read_text().splitlines()
    return any(line.split()[2] == "cgroup" for line in mounts)


# `mov eax, 20 (i386 getpid); int 0x80; ret`, called through ctypes: it dies
# with SIGSEGV on a kernel without IA32 emulation.
I386_GETPID = """
import ctypes, mmap
page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
page.write(bytes.fromhex("b814000000cd80c3"))
ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
"""


@functools.cache
def i386_calls_run() -> bool:
    """Whether this kernel runs i386 system calls from a 64-bit process (IA32 emulation)."""
    probe = subprocess.run(
        [sys.executable, "-c", I386_GETPID], capture_output=True, timeout=30, check=False
    )
    return probe.returncode == 0


@functools.cache
def openat2_supported() -> bool:
    from sandpit.workspaces import _syscalls

    return _syscalls.openat2_supported()


@dataclass(frozen=True)
class AllowedSkip:
    """Skips of tests whose id matches `pattern` (fnmatch) pass while `condition()` holds."""

    pattern: str
    reason: str
    condition: Callable[[], bool]
    condition_text: str

    def allows(self, nodeid: str) -> bool:
        return fnmatch.fnmatchcase(nodeid, self.pattern) and self.condition()


ALLOWED: tuple[AllowedSkip, ...] = (
    AllowedSkip(
        "tests/sandbox/test_cgroups.py::test_v1_kill_without_a_freezer_*",
        "a path of the v1 driver only; the v2 paths run in test_cgroups_v2.py",
        lambda: not cgroup_v1_mounted(),
        "no cgroup v1 hierarchy is mounted (a pure v2 host, as in CI)",
    ),
    AllowedSkip(
        "tests/sandbox/test_seccomp.py::*",
        "syscall numbers, calls and ABIs (i386, x32) that only x86_64 has",
        lambda: platform.machine() != "x86_64",
        "the machine is not x86_64",
    ),
    AllowedSkip(
        "tests/sandbox/test_seccomp.py::test_the_i386_and_x32_abis_cannot_bypass_the_filter",
        "without IA32 emulation there is no i386 ABI to bypass the filter with",
        lambda: not i386_calls_run(),
        "the kernel runs no i386 calls (IA32 emulation off)",
    ),
    AllowedSkip(
        "tests/workspaces/*openat2*",
        "the openat2 resolver; the walk resolver runs the same tests",
        lambda: not openat2_supported(),
        "the kernel has no openat2 (Linux older than 5.6)",
    ),
)


def allowed(nodeid: str) -> AllowedSkip | None:
    return next((entry for entry in ALLOWED if entry.allows(nodeid)), None)


class SkipGuard:
    """Collects skips as they are reported; fails the session on unexpected ones."""

    def __init__(self) -> None:
        self.unexpected: list[tuple[str, str]] = []

    def _record(self, report: Report) -> None:
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        if allowed(report.nodeid) is None:
            self.unexpected.append((report.nodeid, skip_reason(report)))

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._record(report)

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._record(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # Also when every test was skipped, which pytest reports as "no tests collected".
        if self.unexpected and exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: TerminalReporter) -> None:
        if not self.unexpected:
            return
        terminalreporter.section("unexpected skips (they fail the pass)", red=True, bold=True)
        for nodeid, reason in self.unexpected:
            terminalreporter.line(f"{nodeid}: {reason}")
        terminalreporter.line(
            "A test that cannot run here must fail, not skip; the allowed skips and their "
            "host conditions are in tests/plugins/skip_guard.py."
        )


def skip_reason(report: Report) -> str:
    """The message a skip carries: longrepr is (path, line, "Skipped: why") for skips."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(SkipGuard(), "sandpit-skip-guard")
