"""Administrators only: the command log of terminals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sandpit.api.deps import Context, CurrentAdmin, DbSession
from sandpit.api.schemas import CommandLogEntryOut, CommandLogPage
from sandpit.terminals import commandlog

router = APIRouter(prefix="/admin", tags=["admin"])


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
