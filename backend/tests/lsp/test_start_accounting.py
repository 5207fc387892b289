"""Starts under way count on both sides: a language-server sandbox starting holds
back a user's sandbox start, and the reverse, until its memory can be measured.

The two managers and the admission are the real ones; the backend is a stand-in
whose starts wait at a gate, so a start is held under way for as long as the
test needs (the whole path with real sandboxes: tests/lsp/test_admission.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sandpit.errors import HostFull
from sandpit.lsp.manager import LanguageServers
from sandpit.lsp.session import LspSettings
from sandpit.sandbox.admission import Admission, AdmissionLimits
from sandpit.sandbox.base import SandboxError, SandboxSpec
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.manager import SandboxManager
from sandpit.security.ratelimit import MemoryRateLimiter

MiB = 1024 * 1024


class GatedBackend:
    """Every start waits for the gate, then fails (nothing is started)."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def start(self, spec: SandboxSpec) -> object:
        self.entered.set()
        await self.gate.wait()
        raise SandboxError("the test's backend starts nothing")


async def until_waiting(backend: GatedBackend) -> None:
    """Until a start waits at the gate (once per call)."""
    await asyncio.wait_for(backend.entered.wait(), 10)
    backend.entered.clear()


async def test_starts_under_way_count_for_both_kinds_of_sandbox(tmp_path: Path) -> None:
    # Room for one start at its reserve, no more.
    admission = Admission(
        AdmissionLimits(memory_budget_bytes=100 * MiB, start_reserve_bytes=100 * MiB),
        MemoryRateLimiter(),
        lambda: 0,
    )
    backend = GatedBackend()
    users = SandboxManager(
        backend,  # type: ignore[arg-type]
        Limits(),
        lambda workspace: tmp_path / workspace,
        admission=admission,
    )
    servers = LanguageServers(
        backend,  # type: ignore[arg-type]
        lambda workspace: tmp_path / workspace,
        LspSettings(limits=Limits()),
        admission,
        users.starting_count,
    )
    users.starting_elsewhere = servers.starting_count  # as the app wires them

    # A language-server sandbox starting: a user's sandbox must wait.
    opening = asyncio.create_task(servers.open("w1", "u1", lambda message: None))
    await until_waiting(backend)
    with pytest.raises(HostFull):
        users.check_admission("w2", "u2")
    with pytest.raises(HostFull):
        await users.get("w2", "u2")
    backend.gate.set()
    with pytest.raises(SandboxError):
        await opening
    users.check_admission("w2", "u2")  # its start is over: room again

    # And the reverse: a user's sandbox starting holds back a language server.
    backend.gate.clear()
    getting = asyncio.create_task(users.get("w3", "u3"))
    await until_waiting(backend)
    with pytest.raises(HostFull):
        await servers.open("w4", "u4", lambda message: None)
    backend.gate.set()
    with pytest.raises(SandboxError):
        await getting
