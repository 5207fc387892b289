"""What the harnesses of both backends share: a test cgroup root and agent-started processes.

Both backends put a sandbox's processes in cgroup leaves under a root of
their own and start them through the agent (`sandpit.sandbox.agent_process`),
so the host-side answers that come from those facts are the same.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from sandpit.sandbox import cgroups
from sandpit.sandbox.agent_process import AgentProcess
from sandpit.sandbox.base import Process, Sandbox


def live_processes(keep: Callable[[int, dict[str, str]], bool]) -> dict[int, str]:
    """Host pid -> command name of every live (non-zombie) process for which
    `keep(pid, fields of /proc/<pid>/status)` is true."""
    found: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if not fields.get("State", "").strip().startswith("Z") and keep(int(entry), fields):
            found[int(entry)] = fields.get("Name", "?").strip()
    return found


def _cgroup_of(sandbox: Sandbox) -> cgroups.SandboxCgroup:
    cgroup = getattr(sandbox, "cgroup", None)
    assert isinstance(cgroup, cgroups.SandboxCgroup), sandbox
    return cgroup


class AgentHarness:
    """A random test cgroup root (``sandpit-test-<hex>``), never a server's, and its driver."""

    def __init__(self, rootfs: Path, state_dir: Path) -> None:
        self.rootfs = rootfs
        self.state_dir = state_dir
        self.root_name = f"sandpit-test-{secrets.token_hex(4)}"
        self.driver = cgroups.detect(self.root_name)

    def host_pids(self, sandbox: Sandbox) -> list[int]:
        """Host pids of every process of `sandbox` (from its cgroup, not its word)."""
        return _cgroup_of(sandbox).procs()

    def host_pid(self, process: Process) -> int:
        assert isinstance(process, AgentProcess)
        assert process.host_pid is not None
        return process.host_pid

    def process_groups(self, sandbox: Sandbox) -> list[str]:
        """Its cgroup leaves, but the agent's."""
        return [leaf.name for leaf in _cgroup_of(sandbox).leaves() if leaf.name != "agent"]
