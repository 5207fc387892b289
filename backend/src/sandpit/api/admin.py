"""Administrators only: users and their usage, live sandboxes (and stopping one),
admission and the refusals of limits, and the command log of terminals.

Every answer is bounded: users come in pages, sandboxes are at most what
the host admits, refusals are the newest of a fixed-size ring.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import func, select

from sandpit.api.admin_schemas import (
    AdminSandboxOut,
    AdminUserOut,
    AdminUsersPage,
    AdmissionOut,
    RefusalOut,
)
from sandpit.api.deps import Context, CurrentAdmin, DbSession
from sandpit.api.errors import responses
from sandpit.api.sandboxes import live_sandbox
from sandpit.api.schemas import CommandLogEntryOut, CommandLogPage
from sandpit.config import Settings
from sandpit.db.models import Run, User, Workspace
from sandpit.errors import NotFound
from sandpit.terminals import commandlog
from sandpit.workspaces.store import volumes, workspace_dir

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/users", response_model=AdminUsersPage)
async def list_users(
    _admin: CurrentAdmin,
    db: DbSession,
    context: Context,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AdminUsersPage:
    """Users by name, with their usage: sandboxes running now with their memory and CPU,
    disk allocated to their workspaces, runs started today (UTC)."""
    users = list(await db.scalars(select(User).order_by(User.username).offset(offset).limit(limit)))
    ids = [u.id for u in users]
    workspaces: dict[str, list[str]] = {i: [] for i in ids}
    for workspace_id, owner_id in (
        await db.execute(
            select(Workspace.id, Workspace.owner_id).where(Workspace.owner_id.in_(ids))
        )
    ).tuples():
        workspaces[owner_id].append(workspace_id)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    counted = await db.execute(
        select(Run.user_id, func.count())
        .where(Run.user_id.in_(ids), Run.created_at >= midnight)
        .group_by(Run.user_id)
    )
    runs_today = {uid: count for uid, count in counted.tuples()}
    live = await _live_by_user(context)
    storage = await asyncio.to_thread(_storage_by_user, context.settings, workspaces)
    page = [
        AdminUserOut(
            id=u.id,
            username=u.username,
            role=u.role,
            disabled=u.disabled,
            created_at=u.created_at,
            workspaces=len(workspaces[u.id]),
            sandboxes=len(live.get(u.id, [])),
            memory_bytes=sum(s.memory_bytes for s in live.get(u.id, [])),
            cpu_seconds=sum(s.cpu_seconds for s in live.get(u.id, [])),
            storage_bytes=storage[u.id],
            runs_today=runs_today.get(u.id, 0),
        )
        for u in users
    ]
    return AdminUsersPage(users=page, next_offset=offset + limit if len(page) == limit else None)


@router.get("/sandboxes", response_model=list[AdminSandboxOut])
async def list_sandboxes(
    _admin: CurrentAdmin, db: DbSession, context: Context
) -> list[AdminSandboxOut]:
    """Every sandbox running now, oldest first, with its use and owner."""
    manager = context.sandboxes
    if manager is None:
        return []
    running = manager.running()
    rows = await db.execute(
        select(Workspace.id, Workspace.name, User.id, User.username)
        .join(User, Workspace.owner_id == User.id)
        .where(Workspace.id.in_([s.workspace_id for s in running]))
    )
    owners = {w: (name, uid, uname) for w, name, uid, uname in rows.tuples()}
    found = []
    for sandbox in running:
        name, user_id, username = owners.get(
            sandbox.workspace_id, ("", manager.owner_of(sandbox.workspace_id) or "", None)
        )
        live = await live_sandbox(context, sandbox, name)
        if live is not None:
            found.append(AdminSandboxOut(**live.model_dump(), user_id=user_id, username=username))
    return sorted(found, key=lambda f: f.started_at)


@router.delete(
    "/sandboxes/{workspace_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404, e404="No sandbox runs for that workspace."),
)
async def stop_sandbox(workspace_id: str, _admin: CurrentAdmin, context: Context) -> Response:
    """End a workspace's sandbox and everything in it (runs end as `killed`)."""
    manager = context.sandboxes
    if manager is None or not await manager.stop(workspace_id):
        raise NotFound("No sandbox runs for that workspace.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/admission", response_model=AdmissionOut)
async def admission(
    _admin: CurrentAdmin,
    db: DbSession,
    context: Context,
    status_code: Annotated[
        int | None, Query(alias="status", ge=429, le=503, description="429 or 503 only.")
    ] = None,
    user_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AdmissionOut:
    """The host's budget and use now, and the newest refusals (429 and 503 with
    `Retry-After`), filtered by status and user."""
    settings = context.settings
    manager = context.sandboxes
    in_use = None
    if manager is not None and manager.admission is not None:
        in_use = await asyncio.to_thread(manager.admission.memory_in_use)
    refusals = context.refusals.newest(limit=limit, status=status_code, user_id=user_id)
    user_ids = {r.user_id for r in refusals if r.user_id}
    rows = await db.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    # Not dict(rows): a Result has keys(), so dict() would take it for a mapping.
    names = {uid: name for uid, name in rows.tuples()}
    return AdmissionOut(
        sandboxes=len(manager.running()) if manager is not None else 0,
        memory_in_use_bytes=in_use,
        memory_budget_bytes=settings.sandboxes_memory_bytes,
        cpus=settings.sandboxes_cpu_limit,
        sandboxes_per_user=settings.sandboxes_per_user,
        refusals=[
            RefusalOut(
                id=r.id,
                at=r.at,
                status=r.status,
                route=r.route,
                user_id=r.user_id,
                username=names.get(r.user_id) if r.user_id else None,
                detail=r.detail,
            )
            for r in refusals
        ],
    )


async def _live_by_user(context: Context) -> dict[str, list[AdminSandboxOut]]:
    manager = context.sandboxes
    by_user: dict[str, list[AdminSandboxOut]] = {}
    if manager is None:
        return by_user
    for sandbox in manager.running():
        owner = manager.owner_of(sandbox.workspace_id)
        live = await live_sandbox(context, sandbox, "")
        if owner is not None and live is not None:
            by_user.setdefault(owner, []).append(
                AdminSandboxOut(**live.model_dump(), user_id=owner, username=None)
            )
    return by_user


def _storage_by_user(settings: Settings, workspaces: dict[str, list[str]]) -> dict[str, int]:
    """Disk allocated to each user's workspaces: the volume image's blocks, or the tree's."""
    pool = volumes(settings)
    used: dict[str, int] = {}
    for user_id, ids in workspaces.items():
        total = 0
        for workspace_id in ids:
            directory = workspace_dir(settings, workspace_id)
            image = pool.image_of(directory)
            if settings.workspace_volumes:
                with contextlib.suppress(OSError):
                    total += image.lstat().st_blocks * 512
                continue
            for parent, _dirs, files in os.walk(directory):
                for name in files:
                    with contextlib.suppress(OSError):
                        total += os.lstat(os.path.join(parent, name)).st_blocks * 512
        used[user_id] = total
    return used


@router.get("/command-log", response_model=CommandLogPage)
async def command_log(
    _admin: CurrentAdmin,
    db: DbSession,
    context: Context,
    user_id: Annotated[str | None, Query(max_length=32)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    workspace_id: Annotated[str | None, Query(max_length=32)] = None,
    terminal_id: Annotated[str | None, Query(max_length=32)] = None,
    before: Annotated[int | None, Query(ge=1, description="Entries older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> CommandLogPage:
    """Command lines submitted in terminals, newest first (administrators only).

    The lines are rebuilt from keystrokes, so they are approximate: see
    `sandpit.terminals.input.CommandLines`. Lines typed at a password prompt
    (echo off) are not recorded.
    """
    await context.flush_command_log()
    rows = await commandlog.entries(
        db,
        user_id=user_id,
        username=username,
        workspace_id=workspace_id,
        terminal_id=terminal_id,
        before=before,
        limit=limit,
    )
    entries = [
        CommandLogEntryOut(
            id=entry.id,
            user_id=entry.user_id,
            username=name,
            workspace_id=entry.workspace_id,
            terminal_id=entry.terminal_id,
            command=entry.command,
            skipped_before=entry.skipped_before,
            created_at=entry.created_at,
        )
        for entry, name in rows
    ]
    next_before = entries[-1].id if len(entries) == limit else None
    return CommandLogPage(entries=entries, next_before=next_before)
