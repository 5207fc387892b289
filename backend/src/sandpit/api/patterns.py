"""JSON Schema patterns for the rules that code checks on names, so that the
OpenAPI document states them too and a client (or a fuzzer) can tell a name
the server will take from one it will refuse.

The rules themselves stay where they are enforced, with their sentences:
`sandpit.workspaces.paths.validate_path` (workspace paths) and
`sandpit.services.workspaces.clean_name` (workspace names). The patterns are
built from the same Unicode categories, as character classes over this
Python's Unicode database; `tests/api/test_patterns.py` checks that whatever
matches a pattern is accepted by its rule.
"""

from __future__ import annotations

import functools
import sys
import unicodedata

from sandpit.workspaces.paths import MAX_NAME_BYTES, MAX_PATH_BYTES, REFUSED_CATEGORIES

# As `clean_name`: control, format, surrogate, private-use and unassigned.
NAME_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@functools.cache
def character_class(refused: frozenset[str], also_refused: str = "") -> str:
    """A regex character class (`[...]`) of every code point whose Unicode
    category is not in `refused`, minus the characters of `also_refused`."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for point in range(sys.maxunicode + 2):
        allowed = (
            point <= sys.maxunicode
            and unicodedata.category(chr(point)) not in refused
            and chr(point) not in also_refused
        )
        if allowed and start is None:
            start = point
        elif not allowed and start is not None:
            ranges.append((start, point - 1))
            start = None
    return "[" + "".join(_range(low, high) for low, high in ranges) + "]"


def _range(low: int, high: int) -> str:
    return _char(low) if low == high else f"{_char(low)}-{_char(high)}"


def _char(point: int) -> str:
    # \uXXXX reads the same in ECMA-262 and Python; beyond the BMP the
    # character itself does (ECMA's \u{...} needs the `u` flag).
    return f"\\u{point:04x}" if point <= 0xFFFF else chr(point)


@functools.cache
def workspace_path() -> dict[str, object]:
    """The JSON Schema of a workspace path (`validate_path`'s rules but the byte lengths,
    which are in the description)."""
    allowed = character_class(frozenset(REFUSED_CATEGORIES), also_refused="\\")
    # Relative, no empty name ("//"), no trailing "/", no "." or ".." name.
    # A name's limit is in bytes of UTF-8, which a pattern cannot count: it
    # promises the names that always fit (a character is at most 4 bytes).
    # (Lengths live in the pattern, not in maxLength, so that no generator
    # looks for a path of exactly the longest length the pattern cannot make.)
    pattern = (
        r"^(?!/)(?!.*//)(?!.*/$)(?!(?:.*/)?\.\.?(?:/|$))"
        + f"(?!.*[^/]{{{MAX_NAME_BYTES // 4 + 1}}})(?!.{{{MAX_PATH_BYTES // 4 + 1}}})"
        + f"(?:{allowed})+$"
    )
    return {
        "type": "string",
        "minLength": 1,
        "pattern": pattern,
        "description": "A path in the workspace, names separated by '/', e.g. `src/main.py`: "
        "no '.' or '..' names, no backslash, no control or invisible characters. The server "
        f"takes names up to {MAX_NAME_BYTES} bytes and paths up to {MAX_PATH_BYTES} bytes of "
        f"UTF-8; the pattern promises names of up to {MAX_NAME_BYTES // 4} and paths of up to "
        f"{MAX_PATH_BYTES // 4} characters, which always fit.",
        "examples": ["main.py"],
    }


def name_pattern(max_length: int) -> str:
    """A workspace name: at least one visible character, none refused by `clean_name`,
    at most `max_length` characters."""
    allowed = character_class(NAME_REFUSED_CATEGORIES)
    return r"^(?=.*\S)" + f"(?!.{{{max_length + 1}}}){allowed}+$"
