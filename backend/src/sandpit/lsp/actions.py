"""Code actions asked of both servers and answered once with both lists.

pyrefly offers quick fixes for its own problems (generate a missing
variable, function or class; insert an import; an ignore comment) and
refactorings (extract, inline, move); ruff offers its lint fixes and
"organize imports". The client asks one server per connection, so a
`textDocument/codeAction` request goes to both: pyrefly gets it under the
client's id, ruff under a tagged one, and the client gets one answer, ruff's
actions then pyrefly's, once both have answered (one server's error leaves
the other's list; two errors give pyrefly's error).

Each fix is offered once, as diagnostics are (`mux.OWNED_BY`): a pyrefly
action that makes exactly the change a ruff action makes (removing an unused
import) is dropped, and so is pyrefly's ignore comment for a rule whose
reports are ruff's (the editor shows ruff's report, which that comment would
not silence).

pyrefly's actions carry their edits; only ruff's may need
`codeAction/resolve`, which therefore still goes to ruff alone.

Requests waiting for an answer are bounded (`MAX_PENDING`, the oldest
forgotten first): a forgotten request's main answer then reaches the client
as pyrefly's alone, and ruff's is dropped.
"""

from __future__ import annotations

import json
from typing import Any

Message = dict[str, Any]
TAG = "mux:action:"
MAX_PENDING = 64


class CodeActions:
    def __init__(self, ruff_owns: frozenset[str]) -> None:
        self._ruff_owns = ruff_owns
        # By the client's id (as JSON, so any id is a key): the answers so far.
        self._pending: dict[str, dict[str, Message]] = {}

    def request(self, message: Message) -> tuple[Message, Message]:
        """The request as sent to pyrefly and as sent to ruff."""
        key = json.dumps(message.get("id"))
        self._pending[key] = {}
        if len(self._pending) > MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        return message, {**message, "id": TAG + key}

    def asked(self, server: str, message: Message) -> bool:
        """Whether `message` (an answer from `server`) answers a code-action request."""
        key = self._key(server, message)
        return key is not None and key in self._pending

    def answer(self, server: str, message: Message) -> list[Message]:
        """The client's answer once both servers answered (a list: empty until then).

        An answer not `asked` for is passed on as it is.
        """
        key = self._key(server, message)
        answers = self._pending.get(key) if key is not None else None
        if key is None or answers is None:
            return [message]
        answers[server] = message
        if len(answers) < 2:
            return []
        del self._pending[key]
        main, ruff = answers["main"], answers["ruff"]
        if "error" in main and "error" in ruff:
            return [main]
        ruff_actions = _actions(ruff)
        ruff_edits = [action.get("edit") for action in ruff_actions if isinstance(action, dict)]
        main_actions = [
            action
            for action in _actions(main)
            if not (isinstance(action, dict) and self._duplicate(action, ruff_edits))
        ]
        merged = {name: value for name, value in main.items() if name != "error"}
        return [{**merged, "id": json.loads(key), "result": ruff_actions + main_actions}]

    def _duplicate(self, action: Message, ruff_edits: list[Any]) -> bool:
        if "edit" in action and action["edit"] in ruff_edits:
            return True
        title = str(action.get("title", ""))
        return any(f"ignore[{code}]" in title for code in self._ruff_owns)

    @staticmethod
    def _key(server: str, message: Message) -> str | None:
        ident = message.get("id")
        if server == "ruff":
            return ident[len(TAG) :] if isinstance(ident, str) and ident.startswith(TAG) else None
        try:
            return json.dumps(ident)
        except (TypeError, ValueError):
            return None


def _actions(answer: Message) -> list[Any]:
    result = answer.get("result")
    return result if "error" not in answer and isinstance(result, list) else []
