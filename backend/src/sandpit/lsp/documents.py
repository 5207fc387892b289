"""The text of the documents the editor has open, as the servers see it.

Kept from the client's document notifications (`didOpen`, `didChange` with
whole-text or ranged changes, `didClose`) so the multiplexer can tell what
is typed at a position. Positions are LSP's: a line and a character counted
in UTF-16 code units (the default encoding, the one the editor uses); lines
end at `\\n`, `\\r\\n` or `\\r`.

Malformed changes (a range past the end, a missing text) forget the
document rather than raise: the text is only used to answer completions
faster, and a forgotten document just means asking the server. For the
same reason the texts kept are bounded (`MAX_CHARS` in all, the documents
changed longest ago forgotten first): they live in the API server's
memory, and the client is untrusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_CHARS = 4 * 1024 * 1024
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_WORD_BEFORE = re.compile(r"\w*\Z")


@dataclass(frozen=True)
class Typed:
    """What is typed at a position: the identifier's start (an offset) and its prefix."""

    start: int
    prefix: str
    # The document without the prefix: equal for two positions when only the
    # identifier being typed differs between them.
    context: str


class Documents:
    def __init__(self, max_chars: int = MAX_CHARS) -> None:
        self._max_chars = max_chars
        # Oldest change first (a changed document moves to the end).
        self._texts: dict[str, str] = {}

    def text(self, uri: str) -> str | None:
        return self._texts.get(uri)

    def notify(self, method: str, params: Any) -> None:
        """Follow one client notification (any method; the document ones change the text)."""
        if not isinstance(params, dict):
            return
        document = params.get("textDocument")
        if not isinstance(document, dict) or not isinstance(document.get("uri"), str):
            return
        uri = document["uri"]
        if method == "textDocument/didOpen":
            text = document.get("text")
            if isinstance(text, str):
                self._keep(uri, text)
        elif method == "textDocument/didClose":
            self._texts.pop(uri, None)
        elif method == "textDocument/didChange":
            self._change(uri, params.get("contentChanges"))

    def _change(self, uri: str, changes: Any) -> None:
        text = self._texts.get(uri)
        if text is None or not isinstance(changes, list):
            return
        for change in changes:
            replaced = _apply(text, change)
            if replaced is None:
                del self._texts[uri]
                return
            text = replaced
        self._keep(uri, text)

    def _keep(self, uri: str, text: str) -> None:
        self._texts.pop(uri, None)
        self._texts[uri] = text
        total = sum(len(t) for t in self._texts.values())
        while total > self._max_chars:
            oldest = next(iter(self._texts))
            total -= len(self._texts.pop(oldest))

    def typed(self, uri: str, position: Any) -> Typed | None:
        """The identifier typed up to `position` (an LSP Position); None if unknown."""
        text = self._texts.get(uri)
        if text is None:
            return None
        offset = offset_of(text, position)
        if offset is None:
            return None
        line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
        match = _WORD_BEFORE.search(text, line_start, offset)
        start = offset if match is None else match.start()
        return Typed(start, text[start:offset], text[:start] + text[offset:])


def _apply(text: str, change: Any) -> str | None:
    if not isinstance(change, dict):
        return None
    new = change.get("text")
    if not isinstance(new, str):
        return None
    if "range" not in change:
        return new
    span = change["range"]
    if not isinstance(span, dict):
        return None
    start, end = offset_of(text, span.get("start")), offset_of(text, span.get("end"))
    if start is None or end is None or end < start:
        return None
    return text[:start] + new + text[end:]


def offset_of(text: str, position: Any) -> int | None:
    """The index in `text` of an LSP Position; None if it is not one or past the end.

    A character past its line's end means the line's end (as LSP says).
    """
    if not isinstance(position, dict):
        return None
    line, character = position.get("line"), position.get("character")
    if not isinstance(line, int) or not isinstance(character, int) or line < 0 or character < 0:
        return None
    start = 0
    for _ in range(line):
        found = _LINE_BREAK.search(text, start)
        if found is None:
            return None
        start = found.end()
    found = _LINE_BREAK.search(text, start)
    end = len(text) if found is None else found.start()
    offset, units = start, 0
    while offset < end and units < character:
        units += 2 if ord(text[offset]) > 0xFFFF else 1
        offset += 1
    return offset
