"""A minimal LSP client over any byte stream, for the language-server benchmarks.

`LspProbe` speaks JSON-RPC with Content-Length framing (LSP's base protocol)
to a server it is given as a pair of asyncio streams, answers the requests a
server sends back (configuration, registration) with empty results, and keeps
the newest diagnostics per document. Nothing here is part of Sandpit: it is a
measuring instrument.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[bytes], Awaitable[None]]


class LspProbe:
    """One client session: `request()` waits for the answer; `notify()` does not."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._next = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.diagnostics_at: dict[str, float] = {}
        self.diagnostics_changed = asyncio.Event()

    async def request(self, method: str, params: Any, timeout: float = 60.0) -> Any:
        self._next += 1
        ident = self._next
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        await self._write({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        return await asyncio.wait_for(future, timeout)

    async def notify(self, method: str, params: Any) -> None:
        await self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def _write(self, message: dict[str, Any]) -> None:
        await self._send(json.dumps(message).encode())

    async def receive(self, body: bytes) -> None:
        """Handle one message body from the server."""
        message = json.loads(body)
        if "id" in message and "method" in message:  # a request from the server
            result: Any = None
            if message["method"] == "workspace/configuration":
                result = [None for _ in message["params"].get("items", [])]
            await self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif "id" in message:
            future = self._waiting.pop(message["id"], None)
            if future is not None and not future.done():
                if "error" in message:
                    future.set_exception(RuntimeError(json.dumps(message["error"])))
                else:
                    future.set_result(message.get("result"))
        elif message.get("method") == "textDocument/publishDiagnostics":
            uri = message["params"]["uri"]
            self.diagnostics[uri] = message["params"]["diagnostics"]
            self.diagnostics_at[uri] = time.monotonic()
            self.diagnostics_changed.set()

    async def initialize(self, root_uri: str) -> dict[str, Any]:
        caps = {
            "textDocument": {
                "completion": {
                    "completionItem": {
                        "snippetSupport": False,
                        "documentationFormat": ["markdown", "plaintext"],
                        "resolveSupport": {"properties": ["documentation", "detail"]},
                    }
                },
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "signatureHelp": {
                    "signatureInformation": {"documentationFormat": ["markdown", "plaintext"]}
                },
                "definition": {},
                "publishDiagnostics": {},
                "synchronization": {"didSave": True},
            },
            "workspace": {"configuration": True, "workspaceFolders": True},
        }
        result = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "app"}],
                "capabilities": caps,
            },
        )
        await self.notify("initialized", {})
        return dict(result or {})

    async def open(self, uri: str, text: str, version: int = 1) -> None:
        await self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )

    async def change(self, uri: str, text: str, version: int) -> None:
        await self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
        )

    async def at(self, method: str, uri: str, line: int, character: int) -> Any:
        return await self.request(
            method,
            {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}},
        )

    async def completion_labels(self, uri: str, line: int, character: int) -> list[str]:
        result = await self.at("textDocument/completion", uri, line, character)
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        return [str(item.get("label", "")).strip() for item in items]


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


async def read_frames(
    reader: asyncio.StreamReader, on_body: Callable[[bytes], Awaitable[None]]
) -> None:
    """Read Content-Length framed messages until EOF, handing each body on."""
    while True:
        length = -1
        while True:
            line = await reader.readline()
            if not line:
                return
            line = line.strip()
            if not line:
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await on_body(await reader.readexactly(length))
