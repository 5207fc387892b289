"""A version's content read while the version coalesces.

A version inside its coalescing window takes each newer content, and the
content it replaced is collected at once. A reader that read the row just
before could then find its blob gone: the history API answered 404 "no
longer stored" for a version it had just listed (seen in a parallel test
pass). The service here is real (SQLite, the blob store on disk); the
interleaving is forced by stepping in between the row's read and the
blob's read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from sandpit.config import Settings
from sandpit.db.engine import create_engine
from sandpit.db.models import Base, User, Workspace
from sandpit.errors import NotFound
from sandpit.history.service import HistoryService


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[tuple[HistoryService, str]]:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as db:
        user = User(username="ada", password_hash="x")
        db.add(user)
        await db.flush()
        workspace = Workspace(owner_id=user.id, name="w")
        db.add(workspace)
        await db.commit()
        owner, workspace_id = user.id, workspace.id
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    service = HistoryService(settings, sessions)
    await service.record(workspace_id, owner, [("loop.txt", b"step 1\n")], "sandbox")
    yield service, workspace_id
    await engine.dispose()


async def _only_version(service: HistoryService, workspace_id: str) -> str:
    async with service.sessions() as db:
        found = await service.versions(db, workspace_id, "loop.txt")
    assert len(found) == 1
    return found[0].id


async def test_a_version_coalescing_between_its_read_and_its_blob_gives_the_new_content(
    history: tuple[HistoryService, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service, workspace_id = history
    version_id = await _only_version(service, workspace_id)
    owner = await _owner(service, workspace_id)
    real_get = service.blobs.get
    stepped: list[str] = []

    def get_after_a_rewrite(sha256: str) -> bytes:
        if not stepped:
            stepped.append(sha256)
            # The program writes again inside the window: the row takes the
            # new content and the old blob is collected.
            future = asyncio.run_coroutine_threadsafe(
                service.record(workspace_id, owner, [("loop.txt", b"step 2\n")], "sandbox"),
                loop,
            )
            future.result(timeout=30)
        return real_get(sha256)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(service.blobs, "get", get_after_a_rewrite)
    async with service.sessions() as db:
        assert await service.version_content(db, workspace_id, version_id) == b"step 2\n"
    assert stepped, "the rewrite was not made between the two reads"
    assert await _only_version(service, workspace_id) == version_id


async def test_a_blob_lost_from_the_data_directory_is_still_an_error(
    history: tuple[HistoryService, str],
) -> None:
    service, workspace_id = history
    version_id = await _only_version(service, workspace_id)
    for blob in service.blobs.root.rglob("*"):
        if blob.is_file():
            blob.unlink()
    async with service.sessions() as db:
        with pytest.raises(NotFound, match="no longer stored"):
            await service.version_content(db, workspace_id, version_id)


async def _owner(service: HistoryService, workspace_id: str) -> str:
    async with service.sessions() as db:
        workspace: Any = await db.get(Workspace, workspace_id)
        assert workspace is not None
        owner: str = workspace.owner_id
        return owner
