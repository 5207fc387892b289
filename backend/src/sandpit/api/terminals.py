"""Terminals: create, list and close them; attach over a WebSocket; the admins' command log.

The WebSocket protocol is in CONTRACT.md ("Terminals") and
`sandpit.terminals.socket`. A socket that cannot be served is accepted and
then closed with a code saying why: 4000 + the HTTP status of the same
error (4401 not signed in, 4403 refused origin, 4404 no such terminal,
4429 too many windows on it, 4503 sandboxes unavailable). After the shell
exits or the sandbox ends, the server closes with 1000; when it restarts,
with 1001.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, status
from pydantic import BaseModel, Field

from sandpit.api.deps import Context, CurrentAdmin, CurrentUser, DbSession, token_from_request
from sandpit.context import AppContext
from sandpit.db.models import User
from sandpit.errors import NotFound, SandpitError, Unauthorized
from sandpit.services import users, workspaces
from sandpit.terminals import commandlog
from sandpit.terminals import socket as terminal_socket
from sandpit.terminals.manager import TerminalManager
from sandpit.terminals.socket import MAX_COLS, MAX_ROWS
from sandpit.terminals.terminal import Terminal

router = APIRouter(tags=["terminals"])
admin_router = APIRouter(prefix="/admin", tags=["admin"])


class TerminalCreate(BaseModel):
    rows: int = Field(default=24, ge=1, le=MAX_ROWS)
    cols: int = Field(default=80, ge=1, le=MAX_COLS)


class TerminalOut(BaseModel):
    id: str
    workspace_id: str
    created_at: datetime
    exited: bool
    exit_code: int | None
    # Why its sandbox ended, when that is what ended it (`lifetime`, `idle`, ...).
    ended: str | None
    clients: int
    rows: int
    cols: int


class CommandLogEntryOut(BaseModel):
    id: int
    user_id: str
    username: str | None
    workspace_id: str
    terminal_id: str
    command: str
    skipped_before: int
    created_at: datetime


class CommandLogPage(BaseModel):
    entries: list[CommandLogEntryOut]
    # Pass as `before` for the next (older) page; null on the last page.
    next_before: int | None


def _terminals(context: AppContext) -> TerminalManager:
    if context.terminals is None:
        raise context.sandboxes_unavailable()
    return context.terminals


def terminal_out(terminal: Terminal) -> TerminalOut:
    return TerminalOut(
        id=terminal.id,
        workspace_id=terminal.workspace_id,
        created_at=terminal.created_at,
        exited=terminal.exited,
        exit_code=terminal.exit_code,
        ended=terminal.end_reason.value if terminal.end_reason else None,
        clients=len(terminal.clients),
        rows=terminal.rows,
        cols=terminal.cols,
    )


@router.post(
    "/workspaces/{workspace_id}/terminals",
    status_code=status.HTTP_201_CREATED,
    response_model=TerminalOut,
)
async def create_terminal(
    workspace_id: str,
    user: CurrentUser,
    db: DbSession,
    context: Context,
    body: TerminalCreate | None = None,
) -> TerminalOut:
    """Start a login shell in the workspace's sandbox (starting the sandbox if needed)."""
    manager = _terminals(context)
    workspace = await workspaces.get_owned(db, user, workspace_id)
    size = body or TerminalCreate()
    terminal = await manager.create(workspace.id, user.id, rows=size.rows, cols=size.cols)
    return terminal_out(terminal)


@router.get("/workspaces/{workspace_id}/terminals", response_model=list[TerminalOut])
async def list_terminals(
    workspace_id: str, user: CurrentUser, db: DbSession, context: Context
) -> list[TerminalOut]:
    """The workspace's terminals, oldest first; exited ones stay listed for a while."""
    manager = _terminals(context)
    workspace = await workspaces.get_owned(db, user, workspace_id)
    return [terminal_out(t) for t in manager.list(workspace.id)]


@router.get("/workspaces/{workspace_id}/terminals/{terminal_id}", response_model=TerminalOut)
async def get_terminal(
    workspace_id: str, terminal_id: str, user: CurrentUser, db: DbSession, context: Context
) -> TerminalOut:
    manager = _terminals(context)
    workspace = await workspaces.get_owned(db, user, workspace_id)
    return terminal_out(manager.get(workspace.id, terminal_id))


@router.delete(
    "/workspaces/{workspace_id}/terminals/{terminal_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_terminal(
    workspace_id: str, terminal_id: str, user: CurrentUser, db: DbSession, context: Context
) -> Response:
    """Close the terminal: its shell and everything started in it are killed."""
    manager = _terminals(context)
    workspace = await workspaces.get_owned(db, user, workspace_id)
    await manager.delete(workspace.id, terminal_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def ws_close_code(error: SandpitError) -> int:
    """The WebSocket close code for a domain error: 4000 + its HTTP status."""
    return 4000 + error.status_code


def _close_reason(sentence: str) -> str:
    # A close reason is at most 123 bytes of UTF-8.
    encoded = sentence.encode()
    return sentence if len(encoded) <= 123 else encoded[:120].decode("utf-8", "ignore") + "..."


@router.websocket("/workspaces/{workspace_id}/terminals/{terminal_id}/ws")
async def terminal_websocket(websocket: WebSocket, workspace_id: str, terminal_id: str) -> None:
    """Attach to a terminal. Authenticated by `Authorization: Bearer` or the session
    cookie (then `Origin` must be this server's or an allowed one)."""
    context: AppContext = websocket.app.state.context
    await websocket.accept()
    try:
        user = await _socket_user(websocket, context)
        manager = _terminals(context)
        terminal = await _owned_terminal(context, manager, user, workspace_id, terminal_id)
        client = terminal.attach(user.id)
    except SandpitError as exc:
        await websocket.close(ws_close_code(exc), _close_reason(exc.detail))
        return
    assert context.sandboxes is not None
    # An attached terminal is in use: its sandbox must not end as idle.
    with context.sandboxes.busy(workspace_id):
        await terminal_socket.serve(websocket, terminal, client)


async def _socket_user(websocket: WebSocket, context: AppContext) -> User:
    # Not a safe method: a cookie-authenticated socket must come from our origin.
    token = token_from_request(websocket.headers, websocket.cookies, "WEBSOCKET", context)
    user_id = context.tokens.user_id(token)
    async with context.sessions() as db:
        user = await users.get_user(db, user_id)
    if user is None:
        raise Unauthorized("Your account no longer exists; please sign in again.")
    return user


async def _owned_terminal(
    context: AppContext,
    manager: TerminalManager,
    user: User,
    workspace_id: str,
    terminal_id: str,
) -> Terminal:
    async with context.sessions() as db:
        try:
            await workspaces.get_owned(db, user, workspace_id)
        except NotFound:
            raise NotFound("There is no such terminal.") from None
    terminal = manager.get(workspace_id, terminal_id)
    if terminal.owner_id != user.id:
        raise NotFound("There is no such terminal.")
    return terminal


@admin_router.get("/command-log", response_model=CommandLogPage)
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
    if context.terminals is not None:
        await context.terminals.command_log.flush()
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
