"""The socket handler: one WebSocket client of one terminal.

Binary frames carry raw bytes both ways; text frames carry JSON control
messages (CONTRACT.md, "Terminals"). From the client: `{"type": "resize",
"cols", "rows"}` and `{"type": "ack", "bytes"}`. To the client: `exit`,
`ended`, `resync` (a full replay follows) and `error`. A malformed control
message is answered with an `error`, never by closing: a client bug should
not cost the user their terminal.
"""

from __future__ import annotations

import asyncio
import json
from typing import TypeGuard

from starlette.websockets import WebSocket

from sandpit.terminals.client import Client
from sandpit.terminals.terminal import Terminal

MAX_CONTROL_CHARS = 4096
MAX_ROWS = 500
MAX_COLS = 1000


async def serve(websocket: WebSocket, terminal: Terminal, client: Client) -> None:
    """Run an accepted, attached client until either side ends it; always detaches it."""

    async def close(code: int, reason: str) -> None:
        await websocket.close(code, reason)

    pump = asyncio.create_task(client.pump(websocket.send_bytes, websocket.send_text, close))
    reader = asyncio.create_task(_read(websocket, terminal, client))
    try:
        await asyncio.wait({pump, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        terminal.detach(client)
        for task in (pump, reader):
            task.cancel()
        # A client gone mid-send makes the pump fail; that is just the end.
        await asyncio.gather(pump, reader, return_exceptions=True)


async def _read(websocket: WebSocket, terminal: Terminal, client: Client) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        data = message.get("bytes")
        if data is not None:
            await terminal.write(data, client)
            continue
        text = message.get("text")
        if text is not None:
            problem = control(text, terminal, client)
            if problem:
                client.push_control({"type": "error", "message": problem})


def control(text: str, terminal: Terminal, client: Client) -> str | None:
    """Apply one control message; return what is wrong with it, or None."""
    if len(text) > MAX_CONTROL_CHARS:
        return "A control message is at most 4096 characters."
    try:
        message = json.loads(text)
    except ValueError:
        return "A control message must be JSON."
    if not isinstance(message, dict):
        return "A control message must be a JSON object."
    kind = message.get("type")
    if kind == "ack":
        total = message.get("bytes")
        if not _is_int(total) or total < 0:
            return "An ack needs 'bytes', a whole number of bytes rendered so far."
        terminal.ack(client, total)
        return None
    if kind == "resize":
        cols, rows = message.get("cols"), message.get("rows")
        if not (
            _is_int(cols) and _is_int(rows) and 1 <= cols <= MAX_COLS and 1 <= rows <= MAX_ROWS
        ):
            return f"A resize needs whole 'cols' (1 to {MAX_COLS}) and 'rows' (1 to {MAX_ROWS})."
        terminal.resize(rows, cols)
        return None
    return "Unknown control message; expected 'ack' or 'resize'."


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
