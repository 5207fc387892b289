"""Sandboxes carry their owner: the workspace's user, looked up in the database when
one starts, so what sandboxes share on the host (the package proxy's pool) is capped
per user."""

from __future__ import annotations

from pathlib import Path

from sandpit.db import migrate
from sandpit.db.engine import create_engine, session_factory
from sandpit.db.models import User, Workspace
from sandpit.sandbox.base import SandboxSpec
from sandpit.sandbox.limits import Limits
from sandpit.sandbox.manager import SandboxManager
from sandpit.sandboxes import workspace_owners


class RecordingBackend:
    """Records the specs it is asked to start; starts nothing (pure logic of the manager)."""

    name = "recording"

    def __init__(self) -> None:
        self.specs: list[SandboxSpec] = []

    async def start(self, spec: SandboxSpec) -> object:
        self.specs.append(spec)
        return _Started()


class _Started:
    ended_reason = None

    async def wait_ended(self) -> None:
        return None


async def test_the_workspace_owner_goes_into_the_spec(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'sandpit.db'}")
    try:
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as db:
            user = User(username="owner", password_hash="x")
            db.add(user)
            await db.flush()
            workspace = Workspace(owner_id=user.id, name="ws")
            db.add(workspace)
            await db.commit()
            user_id, workspace_id = user.id, workspace.id
        owner_of = workspace_owners(sessions)
        assert await owner_of(workspace_id) == user_id
        assert await owner_of("no-such-workspace") == ""

        backend = RecordingBackend()
        manager = SandboxManager(
            backend,  # type: ignore[arg-type]
            Limits(),
            lambda workspace: tmp_path / workspace,
            owner_of=owner_of,
        )
        await manager.get(workspace_id)
        assert [spec.owner for spec in backend.specs] == [user_id]
    finally:
        await engine.dispose()
