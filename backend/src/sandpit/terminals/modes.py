"""Terminal modes a program set by writing escape sequences, tracked by scanning its output.

A client that (re)attaches gets the terminal's recent output from the ring,
but the modes in effect when the ring's window starts (a full-screen editor
entered long ago, bracketed paste switched on by the shell at start-up)
were set by bytes that are no longer there. `ModeTracker` follows the
DECSET/DECRST sequences (`CSI ? Pm h` / `CSI ? Pm l`), the keypad modes
(`ESC =`, `ESC >`) and full resets (`ESC c`) of the bytes fed to it, and
`restore()` gives the sequences that recreate that state on a fresh terminal.
Sequences split across chunks are carried over to the next `feed`.
"""

from __future__ import annotations

import re

# DECSET/DECRST with their parameters, or the keypad modes, or a full reset.
_SEQUENCE = re.compile(rb"\x1b\[\?([0-9;]{1,64})([hl])|\x1b([=>c])")
# What may be the beginning of one of those sequences, cut at a chunk's end.
_PARTIAL = re.compile(rb"\x1b(\[(\?[0-9;]{0,64})?)?")
_MAX_CARRY = 80

CURSOR_KEYS = 1  # application cursor keys (DECCKM)
CURSOR_VISIBLE = 25
BRACKETED_PASTE = 2004
ALT_SCREENS = (47, 1047, 1049)
MOUSE_TRACKING = (9, 1000, 1001, 1002, 1003)  # one at a time: the last one set wins
# On/off flags restored as they are (focus events, mouse encodings, paste, cursor keys).
FLAGS = (CURSOR_KEYS, 1004, 1005, 1006, 1015, BRACKETED_PASTE)


class ModeTracker:
    """The modes set by the output fed so far. Cheap: one regex scan per chunk."""

    def __init__(self) -> None:
        self._carry = b""
        self.reset()

    def reset(self) -> None:
        """Back to a fresh terminal's state (what `ESC c` does)."""
        self.flags: set[int] = set()
        self.alt_screen: int | None = None
        self.mouse: int | None = None
        self.cursor_hidden = False
        self.keypad_application = False

    def feed(self, data: bytes) -> None:
        buffer = self._carry + data if self._carry else data
        end = 0
        for match in _SEQUENCE.finditer(buffer):
            self._apply(match)
            end = match.end()
        self._carry = b""
        start = buffer.rfind(b"\x1b", max(end, len(buffer) - _MAX_CARRY))
        if start != -1 and _PARTIAL.fullmatch(buffer, start):
            self._carry = bytes(buffer[start:])

    def _apply(self, match: re.Match[bytes]) -> None:
        single = match.group(3)
        if single is not None:
            if single == b"c":
                self.reset()
            else:
                self.keypad_application = single == b"="
            return
        enable = match.group(2) == b"h"
        for field in match.group(1).split(b";"):
            if field.isdigit():
                self._set(int(field), enable)

    def _set(self, mode: int, enable: bool) -> None:
        if mode in FLAGS:
            if enable:
                self.flags.add(mode)
            else:
                self.flags.discard(mode)
        elif mode in ALT_SCREENS:
            # Leaving by any of the three returns to the normal screen, as in xterm.
            self.alt_screen = mode if enable else None
        elif mode in MOUSE_TRACKING:
            if enable:
                self.mouse = mode
            elif self.mouse == mode:
                self.mouse = None
        elif mode == CURSOR_VISIBLE:
            self.cursor_hidden = not enable

    def restore(self) -> bytes:
        """Sequences that put a fresh terminal into the tracked state (empty if default)."""
        parts = []
        if self.alt_screen is not None:
            parts.append(b"\x1b[?%dh" % self.alt_screen)
        parts += [b"\x1b[?%dh" % mode for mode in sorted(self.flags)]
        if self.mouse is not None:
            parts.append(b"\x1b[?%dh" % self.mouse)
        if self.cursor_hidden:
            parts.append(b"\x1b[?25l")
        if self.keypad_application:
            parts.append(b"\x1b=")
        return b"".join(parts)
