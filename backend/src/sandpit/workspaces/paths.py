r"""Validation of workspace paths given by API clients.

A workspace path names a file or folder relative to the workspace root, with
"/" between names, e.g. ``src/main.py``. `validate_path` is the only way such a
path enters the file layer: it returns the path's names, NFC-normalized, or
raises `InvalidPath` with a sentence that says what is wrong.

Rules (each refusal has its own sentence):

- not empty, relative (no leading "/"), no trailing "/" (one canonical form
  per path; a folder is named without the slash, as ``mkdir src`` does);
- no empty names (``a//b``) and no "." or ".." names;
- no backslash (it is a path separator on Windows and would confuse users);
- no control characters (Unicode category Cc: NUL, newline, DEL, C1), no
  invisible format characters (Cf: zero-width space and joiner, BOM, bidi
  overrides and isolates), no line or paragraph separators (Zl, Zp), no
  surrogates (Cs) and no code points unassigned in this Python's Unicode
  database (Cn) -- such names hide or disguise what a file is called;
- each name at most `MAX_NAME_BYTES` and the whole path at most
  `MAX_PATH_BYTES` in UTF-8, measured after NFC normalization.

The checks are about names only; whether a name exists, or is a link, is the
business of `sandpit.workspaces.fs`.

Sandbox code can still make files whose names break these rules (a control
or escape character, invalid UTF-8, a bidi override). They are listed under
an *escaped* path (`escape_name`): every character of such a name outside
printable ASCII becomes ``\xNN`` (a byte that is not UTF-8), ``\uXXXX`` or
``\UXXXXXXXX``, and a backslash ``\\``. A valid path never holds a
backslash, so an escaped path can never be taken for, or collide with, a
valid one; `unescape_path` turns it back into the exact on-disk names, so
such a file can be deleted through the API. The escaped form is plain
printable ASCII: shown as text, it cannot hide, reorder or disguise anything.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable

from sandpit.errors import InvalidPath

MAX_NAME_BYTES = 255
"""Longest file or folder name, in UTF-8 bytes (Linux's NAME_MAX)."""

MAX_PATH_BYTES = 1024
"""Longest whole path, in UTF-8 bytes."""

# Categories refused anywhere in a path. Cc: control characters; Cf: invisible
# format characters (including bidi controls that reorder how a name displays);
# Zl/Zp: line and paragraph separators; Cs: lone surrogates (not encodable as
# UTF-8); Cn: unassigned code points (no one can tell what they will become).
REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cs": "a surrogate code point",
    "Cn": "an unassigned character",
}


def validate_path(raw: str) -> tuple[str, ...]:
    """Check a workspace path and return its names, NFC-normalized.

    Returns at least one name; no name is empty, ".", ".." or contains "/",
    a backslash or a refused character (see the module docstring).

    Raises:
        InvalidPath: the path breaks a rule; the message says which, in a
            sentence a person understands.
    """
    if raw == "":
        raise InvalidPath("The path is empty; name a file or folder in the workspace.")
    # Characters first: a surrogate would make normalization and encoding fail.
    for char in raw:
        if char == "\\":
            raise InvalidPath("The path contains a backslash; use '/' to separate folder names.")
        category = unicodedata.category(char)
        if category in REFUSED_CATEGORIES:
            what = REFUSED_CATEGORIES[category]
            raise InvalidPath(
                f"The path contains {what} (U+{ord(char):04X}), which is not allowed in names."
            )
    path = unicodedata.normalize("NFC", raw)
    if path.startswith("/"):
        raise InvalidPath("The path must be relative to the workspace, without a leading '/'.")
    if path.endswith("/"):
        raise InvalidPath("The path ends with '/'; name the file or folder without it.")
    parts = tuple(path.split("/"))
    for part in parts:
        if part == "":
            raise InvalidPath("The path contains an empty name ('//').")
        if part in (".", ".."):
            raise InvalidPath(
                f"The path contains '{part}' as a name; paths must name files inside the "
                "workspace directly."
            )
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise InvalidPath(f"A name in the path is longer than {MAX_NAME_BYTES} bytes of UTF-8.")
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise InvalidPath(f"The path is longer than {MAX_PATH_BYTES} bytes of UTF-8.")
    return parts


def join_display(parts: Iterable[str]) -> str:
    """Return the "/"-joined form of path names, as shown to users and in listings.

    A name that breaks the rules (see the module docstring) is escaped.
    """
    return "/".join(display_name(part) for part in parts)


def display_name(name: str) -> str:
    """`name` itself if it is a valid name, else `escape_name(name)`."""
    try:
        if validate_path(name) == (name,):
            return name
    except InvalidPath:
        pass
    return escape_name(name)


def escape_name(name: str) -> str:
    """A name (as `os` gives it: invalid UTF-8 bytes as lone surrogates) in escaped form."""
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for a byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char == "\\":
            out.append("\\\\")
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


_ESCAPES = {"x": 2, "u": 4, "U": 8}


def unescape_path(escaped: str) -> tuple[str, ...]:
    """The on-disk names (as `os` takes them) of a path `join_display` escaped.

    Names without a backslash are taken exactly as written (no normalization);
    the others are decoded from their escapes. Raises `InvalidPath` for a
    malformed escape, an empty, "." or ".." name, a NUL or "/" in a decoded
    name, or a name over `MAX_NAME_BYTES` bytes.
    """
    if not escaped:
        raise InvalidPath("The path is empty; name a file or folder in the workspace.")
    names = []
    for part in escaped.split("/"):
        raw = _unescape_name(part)
        if raw in (b"", b".", b"..") or b"\0" in raw or b"/" in raw:
            raise InvalidPath("The escaped path names no file: an empty, '.', '..' or NUL name.")
        if len(raw) > MAX_NAME_BYTES:
            raise InvalidPath(f"A name in the path is longer than {MAX_NAME_BYTES} bytes.")
        names.append(os.fsdecode(raw))
    return tuple(names)


def _unescape_name(part: str) -> bytes:
    out = bytearray()
    index = 0
    while index < len(part):
        char = part[index]
        if char != "\\":
            if unicodedata.category(char) == "Cs":
                raise InvalidPath("The escaped path holds a surrogate code point.")
            out += char.encode("utf-8")
            index += 1
            continue
        kind = part[index + 1 : index + 2]
        if kind == "\\":
            out += b"\\"
            index += 2
            continue
        width = _ESCAPES.get(kind)
        digits = part[index + 2 : index + 2 + width] if width else ""
        if not width or len(digits) != width or not all(c in _HEX for c in digits):
            raise InvalidPath(f"The escaped path has a malformed escape at character {index + 1}.")
        value = int(digits, 16)
        if kind == "x":
            if value < 0x80:
                raise InvalidPath("The escaped path escapes an ASCII byte with \\x.")
            out.append(value)
        else:
            try:
                out += chr(value).encode("utf-8")
            except (ValueError, UnicodeEncodeError):  # past U+10FFFF, or a surrogate
                raise InvalidPath(
                    f"The escaped path names no character: \\{kind}{digits}."
                ) from None
        index += 2 + width
    return bytes(out)


_HEX = frozenset("0123456789abcdefABCDEF")
