"""Two language servers behind one LSP connection: pyrefly (`main`) and `ruff server`.

The editor's LSP client speaks to one server per connection; this presents
the pair as one. A pure state machine: messages in, (destination, message)
out; the session moves the bytes.

Routing:
- Formatting goes to ruff; code actions go to both, and the client gets
  one answer with both lists (`sandpit.lsp.actions`); every other request
  goes to the main server. Notifications (document sync) go to both.
- `initialize` goes to both; the client gets the main server's answer with
  ruff's formatting capabilities and both servers' code-action kinds, once
  both have answered. Both are told the client cannot pull diagnostics, so
  both publish them. pyrefly is told to report type errors
  (`MAIN_OPTIONS`): by default it reports them only in a project with a
  pyrefly configuration file, so `1 + "a"` went unmarked.
- Diagnostics are kept per document and server, and the client always gets
  the union (each server's publication would otherwise replace the other's).
  Where both report the same problem, one server owns the rule and the
  other's report is dropped (`OWNED_BY`): pyrefly owns names it cannot find
  and syntax errors (it resolves star imports and the user's modules, where
  ruff's F821 goes silent or guesses; both parse with the same parser and
  say the same about syntax), ruff owns unused imports (its report carries
  the quick fix that removes them). A closed document's diagnostics are
  forgotten (a renamed file is closed under its old name).
- Completion answers are cut to the typed prefix, trimmed, and answered
  again from the kept list while only the typed name changes
  (`sandpit.lsp.completion`), from the documents' text (`Documents`), which
  the multiplexer follows from the client's document notifications; such an
  answer goes straight back to the client (destination "client").
- A server's own requests (configuration, registration) get ids tagged with
  the server's name, so the two servers' ids never collide at the client;
  the client's answers are routed back by the tag.
"""

from __future__ import annotations

from typing import Any, Literal

from sandpit.lsp.actions import CodeActions
from sandpit.lsp.completion import Completions
from sandpit.lsp.documents import Documents

Server = Literal["main", "ruff"]
Destination = Literal["main", "ruff", "client"]
Message = dict[str, Any]
SERVERS: tuple[Server, ...] = ("main", "ruff")

# Only ruff resolves code actions: pyrefly's carry their edits.
RUFF_REQUESTS = frozenset(
    {"textDocument/formatting", "textDocument/rangeFormatting", "codeAction/resolve"}
)
RUFF_CAPABILITIES = ("documentFormattingProvider", "documentRangeFormattingProvider")
# pyrefly's `displayTypeErrors` "default" shows type errors only where a
# pyrefly.toml (or `[tool.pyrefly]`) exists; students' workspaces have none.
# A user's configuration still chooses which errors (its `errors` table).
MAIN_OPTIONS: dict[str, Any] = {"pyrefly": {"displayTypeErrors": "force-on"}}
INTERNAL = "mux:"
# The diagnostics a server reports that the other server owns, by `code`
# (see the module docstring for why each is owned where it is).
OWNED_BY: dict[Server, frozenset[str]] = {
    "main": frozenset({"F821", "invalid-syntax"}),  # dropped from ruff's reports
    "ruff": frozenset({"unused-import"}),  # dropped from pyrefly's
}


class Mux:
    def __init__(self) -> None:
        self._init_id: Any = None
        self._init: dict[Server, Message] = {}
        self._diagnostics: dict[str, dict[Server, list[Any]]] = {}
        self._server_requests: dict[str, tuple[Server, Any]] = {}
        self._documents = Documents()
        self._completions = Completions(self._documents)
        self._actions = CodeActions(OWNED_BY["ruff"])

    def from_client(self, message: Message) -> list[tuple[Destination, Message]]:
        """Where a client message goes (a list: notifications go to both servers).

        "client": the multiplexer answered the request itself.
        """
        method = message.get("method")
        if "id" in message and method is None:  # the client answers a server's request
            routed = self._server_requests.pop(str(message["id"]), None)
            if routed is None:
                return []
            server, original = routed
            return [(server, {**message, "id": original})]
        if "id" not in message:
            self._documents.notify(str(method), message.get("params"))
            if method == "textDocument/didClose":
                self._forget_diagnostics(message.get("params"))
            return [(server, message) for server in SERVERS]
        if method == "textDocument/completion":
            answer = self._completions.request(message)
            if answer is not None:
                return [("client", answer)]
        if method == "initialize":
            self._init_id = message["id"]
            params = _without_pull_diagnostics(message.get("params") or {})
            return [
                ("main", {**message, "params": _with_main_options(params)}),
                ("ruff", {**message, "id": INTERNAL + "initialize", "params": params}),
            ]
        if method == "textDocument/codeAction":
            to_main, to_ruff = self._actions.request(message)
            return [("main", to_main), ("ruff", to_ruff)]
        if method == "shutdown":
            return [("main", message), ("ruff", {**message, "id": INTERNAL + "shutdown"})]
        return [("ruff" if method in RUFF_REQUESTS else "main", message)]

    def from_server(self, server: Server, message: Message) -> list[Message]:
        """What the client gets for a server's message (often the message itself)."""
        method = message.get("method")
        if method is None and "id" in message:  # an answer
            if message["id"] == INTERNAL + "initialize" or (
                server == "main" and self._init_id is not None and message["id"] == self._init_id
            ):
                self._init[server] = message
                return self._initialized()
            if self._actions.asked(server, message):
                return self._actions.answer(server, message)
            if str(message["id"]).startswith(INTERNAL):
                return []
            if server == "main" and self._completions.asked(message["id"]):
                return [self._completions.answer(message)]
            return [message]
        if "id" in message:  # the server asks the client something
            tagged = f"{server}:{message['id']}"
            self._server_requests[tagged] = (server, message["id"])
            return [{**message, "id": tagged}]
        if method == "textDocument/publishDiagnostics":
            params = message.get("params") or {}
            uri = str(params.get("uri", ""))
            per_server = self._diagnostics.setdefault(uri, {})
            others = OWNED_BY["ruff" if server == "main" else "main"]
            per_server[server] = [
                d
                for d in params.get("diagnostics") or []
                if not (isinstance(d, dict) and str(d.get("code")) in others)
            ]
            union = [d for s in SERVERS for d in per_server.get(s, [])]
            return [{**message, "params": {**params, "diagnostics": union}}]
        return [message]

    def _initialized(self) -> list[Message]:
        if len(self._init) < len(SERVERS):
            return []
        main, ruff = self._init["main"], self._init["ruff"]
        self._init_id = None
        if "error" in main:
            return [main]
        result = dict(main.get("result") or {})
        capabilities = dict(result.get("capabilities") or {})
        ruff_capabilities = (ruff.get("result") or {}).get("capabilities") or {}
        for name in RUFF_CAPABILITIES:
            if name in ruff_capabilities:
                capabilities[name] = ruff_capabilities[name]
            else:
                capabilities.pop(name, None)
        actions = _code_actions(
            capabilities.get("codeActionProvider"), ruff_capabilities.get("codeActionProvider")
        )
        if actions is None:
            capabilities.pop("codeActionProvider", None)
        else:
            capabilities["codeActionProvider"] = actions
        capabilities.pop("diagnosticProvider", None)
        return [{**main, "result": {**result, "capabilities": capabilities}}]

    def _forget_diagnostics(self, params: Any) -> None:
        document = params.get("textDocument") if isinstance(params, dict) else None
        if isinstance(document, dict):
            self._diagnostics.pop(str(document.get("uri")), None)


def _code_actions(main: Any, ruff: Any) -> Any:
    """The code-action capability for the pair: ruff's, with both servers' kinds.

    None when neither offers code actions. ruff's options are kept whole
    (its `resolveProvider`: resolving goes to ruff alone).
    """
    if not main and not ruff:
        return None
    base = dict(ruff) if isinstance(ruff, dict) else {}
    base.pop("codeActionKinds", None)
    kinds: list[str] = []
    for capability in (ruff, main):
        if not capability:
            continue
        listed = capability.get("codeActionKinds") if isinstance(capability, dict) else None
        if not listed:  # a server that lists no kinds may offer any
            return base or True
        kinds += [kind for kind in listed if kind not in kinds]
    return {**base, "codeActionKinds": kinds}


def _with_main_options(params: Message) -> Message:
    options = params.get("initializationOptions")
    merged = {**options, **MAIN_OPTIONS} if isinstance(options, dict) else MAIN_OPTIONS
    return {**params, "initializationOptions": merged}


def _without_pull_diagnostics(params: Message) -> Message:
    capabilities = dict(params.get("capabilities") or {})
    document = dict(capabilities.get("textDocument") or {})
    document.pop("diagnostic", None)
    capabilities["textDocument"] = document
    return {**params, "capabilities": capabilities}
