"""Validation of workspace paths given by API clients.

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
"""

from __future__ import annotations

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
    """Return the "/"-joined form of path names, as shown to users and in listings."""
    return "/".join(parts)
