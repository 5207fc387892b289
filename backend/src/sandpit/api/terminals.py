"""Terminals: create, list and close them; attach over a WebSocket.

The WebSocket protocol is in CONTRACT.md ("Terminals") and
`sandpit.terminals.socket`. A socket that cannot be served is accepted and
then closed with a code saying why (`sandpit.api.errors.ws_close_code`); a
limit's refusal (4429, 4503) is recorded like an HTTP 429 or 503, in the
refusal log and the metrics.
After the shell exits or the sandbox ends, the server closes with 1000;
when it restarts, with 1001.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, WebSocket, status

from sandpit.api.deps import (
    CurrentUser,
    OwnedWorkspace,
    Terminals,
    sandbox_manager,
    terminal_manager,
    token_from_request,
    token_user,
)
from sandpit.api.errors import close_reason, responses, ws_close_code
from sandpit.api.observe import note_refusal
from sandpit.api.schemas import TerminalCreate, TerminalOut
from sandpit.context import AppContext
from sandpit.db.models import User
from sandpit.errors import NotFound, SandpitError
from sandpit.services import workspaces
from sandpit.terminals import socket as terminal_socket
from sandpit.terminals.manager import TerminalManager
from sandpit.terminals.terminal import Terminal

router = APIRouter(tags=["terminals"])


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
    responses=responses(429, e429="The workspace has all the terminals allowed open."),
)
async def create_terminal(
    workspace: OwnedWorkspace,
    user: CurrentUser,
    manager: Terminals,
    body: TerminalCreate | None = None,
) -> TerminalOut:
    """Start a login shell in the workspace's sandbox (starting the sandbox if needed)."""
    size = body or TerminalCreate()
    terminal = await manager.create(workspace.id, user.id, rows=size.rows, cols=size.cols)
    return terminal_out(terminal)


@router.get("/workspaces/{workspace_id}/terminals", response_model=list[TerminalOut])
async def list_terminals(workspace: OwnedWorkspace, manager: Terminals) -> list[TerminalOut]:
    """The workspace's terminals, oldest first; exited ones stay listed for a while."""
    return [terminal_out(t) for t in manager.list(workspace.id)]


@router.get("/workspaces/{workspace_id}/terminals/{terminal_id}", response_model=TerminalOut)
async def get_terminal(
    terminal_id: str, workspace: OwnedWorkspace, manager: Terminals
) -> TerminalOut:
    return terminal_out(manager.get(workspace.id, terminal_id))


@router.delete(
    "/workspaces/{workspace_id}/terminals/{terminal_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def delete_terminal(
    terminal_id: str, workspace: OwnedWorkspace, manager: Terminals
) -> Response:
    """Close the terminal: its shell and everything started in it are killed."""
    await manager.delete(workspace.id, terminal_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.websocket("/workspaces/{workspace_id}/terminals/{terminal_id}/ws")
async def terminal_websocket(websocket: WebSocket, workspace_id: str, terminal_id: str) -> None:
    """Attach to a terminal. Authenticated by `Authorization: Bearer` or the session
    cookie (then `Origin` must be this server's or an allowed one)."""
    context: AppContext = websocket.app.state.context
    await websocket.accept()
    user: User | None = None
    try:
        user = await _socket_user(websocket, context)
        manager = terminal_manager(context)
        terminal = await _owned_terminal(context, manager, user, workspace_id, terminal_id)
        client = terminal.attach(user.id)
    except SandpitError as exc:
        note_refusal(websocket, exc, user.id if user else None)
        await websocket.close(ws_close_code(exc), close_reason(exc.detail))
        return
    # An attached terminal is in use: its sandbox must not end as idle.
    with sandbox_manager(context).busy(workspace_id):
        await terminal_socket.serve(websocket, terminal, client)


async def _socket_user(websocket: WebSocket, context: AppContext) -> User:
    # Not a safe method: a cookie-authenticated socket must come from our origin.
    token = token_from_request(
        websocket.headers, websocket.cookies, "WEBSOCKET", context, websocket.url.scheme
    )
    async with context.sessions() as db:
        return await token_user(db, context, token)


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
