"""Workspaces: a user's saved coding sessions (the records; their directories: `workspaces.store`).

Authorization lives here: `get_owned` is the only way a handler obtains a
workspace, and it answers `NotFound` for another user's workspace exactly as
for one that does not exist, so ids of others cannot be probed.
"""

from __future__ import annotations

import json
import logging
import unicodedata
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.config import Settings
from sandpit.db.models import Run, User, Workspace
from sandpit.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from sandpit.workspaces.store import (
    remove_tree,
    runs_dir,
    volumes,
    workspace_dir,
    workspace_fs,
)

log = logging.getLogger(__name__)

NAME_MAX = 100
UI_STATE_MAX_BYTES = 64 * 1024


def clean_name(raw: str) -> str:
    """A workspace name, NFC-normalized and stripped; `BadRequest` if unusable."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise BadRequest("A workspace needs a name.")
    if len(name) > NAME_MAX:
        raise BadRequest(f"A workspace name is at most {NAME_MAX} characters.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        raise BadRequest("A workspace name cannot contain control or invisible characters.")
    return name


async def list_owned(db: AsyncSession, user: User) -> list[Workspace]:
    rows = await db.scalars(
        select(Workspace).where(Workspace.owner_id == user.id).order_by(Workspace.created_at)
    )
    return list(rows)


async def get_owned(db: AsyncSession, user: User, workspace_id: str) -> Workspace:
    """The workspace `workspace_id` if `user` owns it; otherwise `NotFound`."""
    workspace = await db.get(Workspace, workspace_id)
    if workspace is None or workspace.owner_id != user.id:
        raise NotFound("There is no such workspace.")
    return workspace


async def create(db: AsyncSession, settings: Settings, user: User, name: str) -> Workspace:
    """Create a workspace and its empty directory.

    Raises `BadRequest` for a bad name, `Conflict` when the user already has
    one with that name or has reached `max_workspaces_per_user`.
    """
    name = clean_name(name)
    count = await db.scalar(
        select(func.count()).select_from(Workspace).where(Workspace.owner_id == user.id)
    )
    if (count or 0) >= settings.max_workspaces_per_user:
        raise Conflict(
            f"You have reached the limit of {settings.max_workspaces_per_user} workspaces; "
            "delete one to create another."
        )
    workspace = Workspace(owner_id=user.id, name=name, ui_state={})
    db.add(workspace)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(f"You already have a workspace named {name!r}.") from exc
    directory = workspace_dir(settings, workspace.id)
    if settings.workspace_volumes:
        await to_thread.run_sync(volumes(settings).create, directory)
    else:
        workspace_fs(settings, workspace.id).ensure_root()
    await db.commit()
    return workspace


async def run_storage(db: AsyncSession, workspace_id: str) -> tuple[int, int]:
    """The workspace's recorded runs: how many, and the bytes they and their plots take."""
    row = (
        await db.execute(
            select(func.count(), func.coalesce(func.sum(Run.stored_bytes), 0)).where(
                Run.workspace_id == workspace_id
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def update(
    db: AsyncSession,
    workspace: Workspace,
    *,
    name: str | None = None,
    ui_state: dict[str, Any] | None = None,
) -> Workspace:
    """Rename a workspace and/or replace its saved IDE state."""
    if name is not None:
        workspace.name = clean_name(name)
    if ui_state is not None:
        if len(json.dumps(ui_state)) > UI_STATE_MAX_BYTES:
            raise PayloadTooLarge("The saved editor state is larger than 64 KiB.")
        workspace.ui_state = ui_state
    try:
        await db.commit()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(f"You already have a workspace named {name!r}.") from exc
    return workspace


async def mark_opened(db: AsyncSession, workspace: Workspace) -> Workspace:
    workspace.last_opened_at = datetime.now(UTC)
    await db.commit()
    return workspace


async def delete(db: AsyncSession, settings: Settings, workspace: Workspace) -> None:
    """Delete the record (its runs go with it), then the files and the runs' plots
    (`remove_tree`: never half-visible, no link followed)."""
    legacy = await legacy_plot_runs(db, [workspace.id])
    await db.delete(workspace)
    await db.commit()
    await remove_files(settings, workspace.id)
    await remove_legacy_plots(settings, legacy)


async def legacy_plot_runs(db: AsyncSession, workspace_ids: list[str]) -> list[str]:
    """Runs of these workspaces with plots, whose plots may still be in the layout of
    before plots were kept per workspace (`runs/<run>/`): to remove them too."""
    if not workspace_ids:
        return []
    rows = await db.scalars(
        select(Run.id).where(Run.workspace_id.in_(workspace_ids), Run.images > 0)
    )
    return list(rows)


async def remove_legacy_plots(settings: Settings, run_ids: list[str]) -> None:
    """Remove the plots of these runs kept in the older layout (`runs/<run>/`)."""
    for run_id in run_ids:
        # Ids we made (uuid hex), read from the database, never from a request.
        await to_thread.run_sync(
            remove_tree, settings.data_dir / "runs" / run_id, settings.data_dir / "trash"
        )


async def remove_files(settings: Settings, workspace_id: str) -> None:
    """Remove everything the workspace has on disk: its volume, directory and run plots."""
    directory = workspace_dir(settings, workspace_id)
    if settings.workspace_volumes:
        await to_thread.run_sync(volumes(settings).remove, directory)
    trash = settings.data_dir / "trash"
    await to_thread.run_sync(remove_tree, directory, trash)
    await to_thread.run_sync(remove_tree, runs_dir(settings, workspace_id), trash)
