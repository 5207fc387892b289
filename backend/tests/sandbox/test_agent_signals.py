"""The agent's start-up: signals a parent left ignored do not reach user programs.

Under Docker the agent is the first program of ours in the container, so it
is the one that must undo what the engine's ancestors left behind (a CI
runner was seen ignoring signal 32, which then reached every container).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.sandbox.test_launcher import ctypes_ignore, ctypes_restore, status_of

RESERVED = (32, 33)  # glibc's own real-time signals, which signal.signal refuses
RESERVED_BITS = (1 << 31) | (1 << 32)  # their bits in /proc's SigIgn

PROBE = """
import ctypes, os, sys
from sandpit.sandbox.inside import agent
if sys.argv[1] == "reset":
    agent._reset_reserved_signals(ctypes.CDLL(None, use_errno=True))
os.execv("/bin/cat", ["cat", "/proc/self/status"])
"""


@pytest.fixture
def reserved_signals_ignored() -> Iterator[None]:
    previous = [(signum, ctypes_ignore(signum)) for signum in RESERVED]
    try:
        yield
    finally:
        for signum, action in previous:
            ctypes_restore(signum, action)


def reserved_ignored_by_a_child(mode: str) -> int:
    """The reserved signals' bits in a child's SigIgn (the probe's own Python
    ignores SIGPIPE and SIGXFSZ, which the agent resets per child elsewhere)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=30, check=True
    )
    return int(status_of(result.stdout)["SigIgn"], 16) & RESERVED_BITS


@pytest.mark.usefixtures("reserved_signals_ignored")
def test_an_inherited_ignore_survives_exec_without_the_reset() -> None:
    # The premise: exec keeps an ignored disposition, and glibc cannot undo it.
    assert reserved_ignored_by_a_child("keep") == RESERVED_BITS


@pytest.mark.usefixtures("reserved_signals_ignored")
def test_the_agent_resets_the_reserved_signals_for_its_children() -> None:
    assert reserved_ignored_by_a_child("reset") == 0
