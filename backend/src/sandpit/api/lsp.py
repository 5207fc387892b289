"""The editor's language servers over one WebSocket per workspace.

`/api/workspaces/{id}/lsp` carries LSP's JSON-RPC messages, one per text
frame, without LSP's Content-Length headers; behind it are pyrefly and
`ruff server` presented as one server (`sandpit.lsp.mux`), in a sandbox of
their own (`sandpit.lsp.session`). Authenticated and origin-checked like a
terminal's socket. Close codes:
- 4401/4403/4404/4503: not signed in, another site's page, not the caller's
  workspace (or none), language servers unavailable here;
- 1013 (try again later): no room for them in the host's memory budget now
  (`sandpit.lsp.manager`); the editor reconnects with its growing delay;
- 1008: over the message rate (`LSP_MESSAGES_PER_S`, `LSP_MESSAGE_BURST`) or
  a message that is not JSON-RPC; 1009: a message over `LSP_MESSAGE_MAX_BYTES`;
- 4408: no message for `LSP_IDLE_S` (the servers stop; reconnect when needed);
- 4409: another window of the same workspace took the servers over;
- 1012: the servers ended (crashed): reconnect, and get fresh ones;
- 1000: the workspace is being deleted or replaced; 1001: the server is shutting down.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from sandpit.api.deps import token_from_request, token_user
from sandpit.api.errors import close_reason, ws_close_code
from sandpit.context import AppContext
from sandpit.db.models import User
from sandpit.errors import HostFull, NotFound, SandpitError, ServiceUnavailable
from sandpit.lsp.bucket import TokenBucket
from sandpit.lsp.manager import LanguageServers
from sandpit.lsp.session import LanguageSession, ProtocolError
from sandpit.services import workspaces

router = APIRouter(tags=["lsp"])

CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_RESTART = 1012
CLOSE_TRY_LATER = 1013
CLOSE_IDLE = 4408
CLOSE_REPLACED = 4409


@router.websocket("/workspaces/{workspace_id}/lsp")
async def lsp_websocket(websocket: WebSocket, workspace_id: str) -> None:
    """Speak LSP with the workspace's language servers (started for this socket)."""
    context: AppContext = websocket.app.state.context
    await websocket.accept()
    try:
        servers = _servers(context)
        user = await _socket_user(websocket, context)
        await _check_owned(context, user, workspace_id)
        session = await servers.open(workspace_id, user.id, websocket.send_text)
    except HostFull as exc:  # for now: unlike the refusals below, worth retrying
        await websocket.close(CLOSE_TRY_LATER, close_reason(exc.detail))
        return
    except SandpitError as exc:
        await websocket.close(ws_close_code(exc), close_reason(exc.detail))
        return
    try:
        code, reason = await _serve(websocket, context, session)
    finally:
        await servers.release(workspace_id, session)
    if code is not None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code, reason)


def _servers(context: AppContext) -> LanguageServers:
    if context.lsp is not None:
        return context.lsp
    if context.sandboxes is None:
        raise context.sandboxes_unavailable()
    raise ServiceUnavailable("Language servers are turned off on this server.")


async def _serve(
    websocket: WebSocket, context: AppContext, session: LanguageSession
) -> tuple[int | None, str]:
    """Pass the client's messages on until either side ends; the close code and reason."""
    settings = context.settings
    bucket = TokenBucket(settings.lsp_messages_per_s, settings.lsp_message_burst)
    ended: asyncio.Future[Any] = asyncio.ensure_future(asyncio.shield(session.ended))
    try:
        while True:
            receive: asyncio.Future[Any] = asyncio.ensure_future(websocket.receive())
            done, _ = await asyncio.wait(
                {receive, ended}, timeout=settings.lsp_idle_s, return_when=asyncio.FIRST_COMPLETED
            )
            if receive not in done:
                receive.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await receive
                if ended in done:
                    return _ended_close(ended.result())
                return CLOSE_IDLE, "The language servers stopped after a quiet while."
            message = receive.result()
            if message["type"] == "websocket.disconnect":
                return None, ""
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                try:
                    text = data.decode()
                except UnicodeDecodeError:
                    return CLOSE_POLICY, "LSP messages are UTF-8 JSON."
            if len(text.encode()) > settings.lsp_message_max_bytes:
                return CLOSE_TOO_BIG, "A message was over the size limit."
            if not bucket.take():
                return CLOSE_POLICY, "Too many messages; slow down."
            try:
                await session.from_client(text)
            except ProtocolError as exc:
                return CLOSE_POLICY, str(exc)
    finally:
        ended.cancel()


def _ended_close(reason: str) -> tuple[int, str]:
    if reason == "replaced":
        return CLOSE_REPLACED, "The language servers moved to another window of this workspace."
    if reason == "closed":
        return 1001, "The server is shutting down."
    if reason == "stopped":
        return 1000, "The workspace's language servers were stopped."
    return CLOSE_RESTART, "The language servers ended; reconnect to restart them."


async def _socket_user(websocket: WebSocket, context: AppContext) -> User:
    # Not a safe method: a cookie-authenticated socket must come from our origin.
    token = token_from_request(
        websocket.headers, websocket.cookies, "WEBSOCKET", context, websocket.url.scheme
    )
    async with context.sessions() as db:
        return await token_user(db, context, token)


async def _check_owned(context: AppContext, user: User, workspace_id: str) -> None:
    async with context.sessions() as db:
        try:
            await workspaces.get_owned(db, user, workspace_id)
        except NotFound:
            raise NotFound("There is no such workspace.") from None
