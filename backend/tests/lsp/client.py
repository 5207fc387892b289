"""An LSP test client over the workspace's language-server WebSocket.

`request()` sends and waits for the answer with its id, keeping every
notification that arrives meanwhile (diagnostics by document), and answers
the servers' own requests (configuration, registration) with empty results,
as the editor's client does.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.servers import SandpitServer
from tests.terminals.client import Closed


def lsp_url(server: SandpitServer, workspace_id: str) -> str:
    base = server.url.replace("http://", "ws://")
    return f"{base}/api/workspaces/{workspace_id}/lsp"


class LspClient:
    def __init__(
        self,
        server: SandpitServer,
        token: str | None,
        workspace_id: str,
        *,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
    ) -> None:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        self.ws: ClientConnection = connect(
            lsp_url(server, workspace_id),
            additional_headers=all_headers,
            origin=origin,  # type: ignore[arg-type]
            proxy=None,
            compression=None,
            max_size=None,
            open_timeout=10,
            legacy=True,  # a plain connection, closed by close()
        )
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self._next = 0

    def __enter__(self) -> LspClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.ws.close()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Any, timeout: float = 90) -> Any:
        """The result of one request; `AssertionError` on an error answer or timeout."""
        self._next += 1
        ident = self._next
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == ident and "method" not in message:
                assert "error" not in message, message
                return message.get("result")

    def wait_diagnostics(self, uri: str, predicate: Any, timeout: float = 60) -> list[Any]:
        """Read until the document's newest diagnostics satisfy `predicate`."""
        deadline = time.monotonic() + timeout
        while not predicate(self.diagnostics.get(uri, [])):
            try:
                self._receive(deadline)
            except AssertionError:
                raise AssertionError(f"diagnostics now: {self.diagnostics.get(uri)}") from None
        return self.diagnostics[uri]

    def _receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        assert remaining > 0, "no answer from the language server in time"
        try:
            raw = self.ws.recv(timeout=remaining)
        except TimeoutError:
            raise AssertionError("no answer from the language server in time") from None
        message: dict[str, Any] = json.loads(raw)
        if "method" in message and "id" in message:
            result: Any = None
            if message["method"] == "workspace/configuration":
                result = [None for _ in message["params"].get("items", [])]
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            self.diagnostics[params["uri"]] = params["diagnostics"]
        return message

    def read_close(self, timeout: float = 60) -> Closed:
        """Read (and drop) until the server closes; how it closed."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as exc:
            received = exc.rcvd
            return Closed(received.code if received else None, received.reason if received else "")

    def initialize(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": "file:///app",
                "workspaceFolders": [{"uri": "file:///app", "name": "app"}],
                "capabilities": {
                    "textDocument": {
                        "completion": {"completionItem": {"snippetSupport": False}},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {},
                        # Asked for, and hidden from the servers by the multiplexer.
                        "diagnostic": {"dynamicRegistration": False},
                    },
                    "workspace": {"configuration": True},
                },
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: str, text: str) -> str:
        uri = f"file:///app/{path}"
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        return uri

    def at(self, method: str, uri: str, line: int, character: int) -> Any:
        position = {"line": line, "character": character}
        return self.request(method, {"textDocument": {"uri": uri}, "position": position})

    def completion_labels(self, uri: str, line: int, character: int) -> list[str]:
        result = self.at("textDocument/completion", uri, line, character)
        items = result.get("items", []) if isinstance(result, dict) else (result or [])
        return [str(item["label"]).strip() for item in items]


def server_pid(server: SandpitServer, name: str) -> int:
    """The pid of this test server's one language server `name` (found by its cgroup)."""
    deadline = time.monotonic() + 30
    mine = f"sandpit-test-{server.port}"
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                cgroup = (entry / "cgroup").read_text()
            except OSError:
                continue
            if argv and argv[0].endswith(name.encode()) and mine in cgroup and "lsp-" in cgroup:
                return int(entry.name)
        time.sleep(0.2)
    raise AssertionError(f"no {name} process of this server")
