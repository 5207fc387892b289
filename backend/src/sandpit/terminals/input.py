"""What the host learns from a terminal's input: line lengths (for the cap) and command lines.

Both read the bytes a client sends, never anything the sandbox writes, so
code in the sandbox cannot use them to reach the host.
"""

from __future__ import annotations

import re

# A line ends at CR or LF; Ctrl+C abandons it (the shell discards it too).
_LINE_END = re.compile(rb"[\r\n\x03]")


class LineCap:
    """Refuses input that would make one input line longer than `limit` bytes.

    Counts the bytes since the last line end across messages. A message that
    would push any line over the limit is refused whole (nothing of it is
    written), so a line can never pass the limit and nothing is half-sent.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.length = 0  # bytes of the current, unfinished line

    def accept(self, data: bytes) -> bool:
        """True (and count it) if `data` keeps every line within the limit."""
        pieces = _LINE_END.split(data)
        first = self.length + len(pieces[0])
        if first > self.limit or (len(pieces) > 1 and max(map(len, pieces[1:])) > self.limit):
            return False
        self.length = first if len(pieces) == 1 else len(pieces[-1])
        return True


# Input tokens: an escape sequence (CSI, SS3 or a two-byte one), one control
# byte, or a run of ordinary bytes.
_TOKEN = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1bO.|\x1b[^\[O]|[\x00-\x1a\x1c-\x1f\x7f]|[^\x00-\x1f\x7f]+",
    re.DOTALL,
)
# An escape sequence cut at the end of a message.
_PARTIAL_ESCAPE = re.compile(rb"\x1b(\[[0-?]*[ -/]*|O)?")
_WORD_END = re.compile(rb"\S+\s*$")
MAX_LINE_BYTES = 4096  # what is kept of one line while it is typed
MAX_COMMAND_CHARS = 1000  # what is recorded of a command


class CommandLines:
    """Command lines rebuilt from terminal input, for the command log.

    Approximate by nature: the host sees keystrokes, not what the shell did
    with them. Backspace, Ctrl+U, Ctrl+W and Ctrl+C are applied; cursor
    movement, history recall (arrow keys) and tab completion are not (their
    escape sequences and control bytes are dropped), so an edited or
    recalled line is recorded as typed, not as run. Lines typed into a
    program other than the shell (a Python prompt, `cat`) are recorded too.
    """

    def __init__(self) -> None:
        self._line = bytearray()
        self._carry = b""

    def feed(self, data: bytes) -> list[str]:
        """Feed input; return the lines it completed (Enter), blank ones left out."""
        if self._carry:
            data, self._carry = self._carry + data, b""
        cut = data.rfind(b"\x1b", max(0, len(data) - 64))
        if cut != -1 and _PARTIAL_ESCAPE.fullmatch(data, cut):
            data, self._carry = data[:cut], bytes(data[cut:])
        done: list[str] = []
        for match in _TOKEN.finditer(data):
            token = match.group()
            first = token[0]
            if first == 0x1B:
                continue
            if len(token) > 1 or (first >= 0x20 and first != 0x7F):
                room = MAX_LINE_BYTES - len(self._line)
                self._line += token[:room]
            elif first in (0x0D, 0x0A):
                text = self._take()
                if text:
                    done.append(text)
            elif first in (0x7F, 0x08):
                self._erase_char()
            elif first in (0x03, 0x15):  # Ctrl+C, Ctrl+U
                self._line.clear()
            elif first == 0x17:  # Ctrl+W
                match_word = _WORD_END.search(self._line)
                if match_word:
                    del self._line[match_word.start() :]
        return done

    def _erase_char(self) -> None:
        while self._line:
            last = self._line.pop()
            if not 0x80 <= last < 0xC0:  # stop after the first byte of a character
                return

    def _take(self) -> str:
        text = self._line.decode("utf-8", "replace").strip()
        self._line.clear()
        return text[:MAX_COMMAND_CHARS]
