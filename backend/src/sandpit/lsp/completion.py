"""Completion lists cut to what is typed, and answered again without the server.

pyrefly answers a completion with every member it knows (all 822 of numpy's
for `np.ar`, 0.78 MB of JSON, most of it each item's type in `detail`) and
says the list is complete (`isIncomplete: false`). LSP then lets a client
filter that list itself as the user types on in the same name, without
asking again. This does that filtering on the server's side of the socket:

- **Cut**: an answer is filtered by the typed prefix before it is sent;
  an item is kept when the prefix's characters appear in its `filterText`
  (or label) in order, ignoring case (a superset of what the editor's fuzzy
  matcher accepts, which only reorders), and a one-character prefix must
  start it. A filtered list is sent as `isIncomplete: true`, so the editor
  asks again when the prefix changes (shorter, or different) instead of
  filtering a list that lacks what it needs.
- **Answered again**: the server's whole complete list is kept, with the
  document as it was around the typed name. A later completion request
  whose document differs only in the name being typed at the same place is
  answered from it, cut to the new prefix, without asking the server (which
  would first re-check the changed file). This is what LSP allows a client
  to do with a complete list; any other change, or an incomplete list, asks
  the server.
- **Trimmed**: an item's `detail` (its type: up to 35 KB for an overloaded
  numpy function) is cut to `DETAIL_MAX` characters; the editor shows it on
  one line beside the label, and hover shows the whole type.

Items with their own edit range (`textEdit`) or a list-wide `editRange` are
passed through unchanged and never answered again: their ranges were made
for one cursor position. At most `MAX_ASKED` requests are remembered while
the server works on them (each holds a copy of its document); the answer
to one forgotten passes as the server wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandpit.lsp.documents import Documents, Typed

DETAIL_MAX = 120
MAX_ASKED = 16
Message = dict[str, Any]


@dataclass(frozen=True)
class _Asked:
    uri: str
    typed: Typed


@dataclass(frozen=True)
class _Kept:
    uri: str
    typed: Typed
    result: Message


class Completions:
    def __init__(self, documents: Documents) -> None:
        self._documents = documents
        self._asked: dict[Any, _Asked] = {}
        self._kept: _Kept | None = None

    def request(self, message: Message) -> Message | None:
        """The answer to a completion request from the kept list, or None: ask the server."""
        params = message.get("params") or {}
        document = params.get("textDocument") if isinstance(params, dict) else None
        uri = document.get("uri") if isinstance(document, dict) else None
        if not isinstance(uri, str):
            return None
        typed = self._documents.typed(uri, params.get("position"))
        if typed is None:
            return None
        kept = self._kept
        if (
            kept is not None
            and kept.uri == uri
            and kept.typed.start == typed.start
            and kept.typed.context == typed.context
        ):
            return {"jsonrpc": "2.0", "id": message.get("id"), "result": cut(kept.result, typed)}
        self._asked[message.get("id")] = _Asked(uri, typed)
        if len(self._asked) > MAX_ASKED:
            del self._asked[next(iter(self._asked))]
        return None

    def asked(self, request_id: Any) -> bool:
        """Whether `request_id` is a completion request the server has not answered yet."""
        return request_id in self._asked

    def answer(self, message: Message) -> Message:
        """The server's answer to a completion request, as the client gets it (cut, trimmed).

        An error (a cancelled request) or an answer that is not a list passes as it is.
        """
        asked = self._asked.pop(message.get("id"), None)
        result = message.get("result")
        if asked is None or "error" in message or result is None:
            return message
        if isinstance(result, list):
            result = {"isIncomplete": False, "items": result}
        if not isinstance(result, dict) or not isinstance(result.get("items"), list):
            return message
        result = trimmed(result)
        if not result.get("isIncomplete") and _reusable(result):
            self._kept = _Kept(asked.uri, asked.typed, result)
        return {**message, "result": cut(result, asked.typed)}


def cut(result: Message, typed: Typed) -> Message:
    """`result` with only the items that can match `typed`'s prefix (see the module doc)."""
    if not typed.prefix or not _reusable(result):
        return result
    prefix = typed.prefix.casefold()
    items = [item for item in result["items"] if _matches(prefix, item)]
    if len(items) == len(result["items"]):
        return result
    return {**result, "isIncomplete": True, "items": items}


def trimmed(result: Message) -> Message:
    """`result` with each item's `detail` cut to `DETAIL_MAX` characters."""
    return {**result, "items": [_trim(item) for item in result["items"]]}


def _trim(item: Any) -> Any:
    detail = item.get("detail") if isinstance(item, dict) else None
    if isinstance(detail, str) and len(detail) > DETAIL_MAX:
        return {**item, "detail": detail[: DETAIL_MAX - 1] + "…"}
    return item


def _reusable(result: Message) -> bool:
    defaults = result.get("itemDefaults")
    if isinstance(defaults, dict) and "editRange" in defaults:
        return False
    return all(isinstance(item, dict) and "textEdit" not in item for item in result["items"])


def _matches(prefix: str, item: Message) -> bool:
    text = item.get("filterText") or item.get("label")
    if not isinstance(text, str):
        return True  # not ours to judge: the editor decides
    word = text.casefold()
    if len(prefix) == 1:
        return word.startswith(prefix)
    at = 0
    for char in prefix:
        at = word.find(char, at) + 1
        if at == 0:
            return False
    return True
