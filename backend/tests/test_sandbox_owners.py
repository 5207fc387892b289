"""Sandboxes carry their owner: the user whose run or terminal starts one, so what
sandboxes share on the host (the package proxy's pool) is capped per user."""

from __future__ import annotations

from pathlib import Path

from sandpit.sandbox.base import SandboxSpec
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.manager import SandboxManager


class RecordingBackend:
    """Records the specs it is asked to start; starts nothing (pure logic of the manager)."""

    name = "recording"

    def __init__(self) -> None:
        self.specs: list[SandboxSpec] = []

    async def start(self, spec: SandboxSpec) -> object:
        self.specs.append(spec)
        return _Started(spec.workspace_id)


class _Started:
    ended_reason = None

    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id

    async def wait_ended(self) -> None:
        return None


async def test_the_starting_user_goes_into_the_spec(tmp_path: Path) -> None:
    backend = RecordingBackend()
    manager = SandboxManager(
        backend,  # type: ignore[arg-type]
        Limits(),
        lambda workspace: tmp_path / workspace,
    )
    await manager.get("ws-1", "user-a")
    await manager.get("ws-2", "user-b")
    assert [(spec.workspace_id, spec.owner) for spec in backend.specs] == [
        ("ws-1", "user-a"),
        ("ws-2", "user-b"),
    ]
    assert manager.owner_of("ws-1") == "user-a"
