"""Tests for `sandpit.workspaces.paths`: a table of examples, then properties."""

from __future__ import annotations

import os
import os.path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from sandpit.errors import InvalidPath
from sandpit.workspaces.paths import (
    MAX_NAME_BYTES,
    MAX_PATH_BYTES,
    display_name,
    join_display,
    unescape_path,
    validate_path,
)

LONGEST = ("a" * 255, "a" * 255, "a" * 255, "b" * 254, "c")  # 1024 bytes with the slashes

GOOD = [
    ("main.py", ("main.py",)),
    ("src/pkg/mod.py", ("src", "pkg", "mod.py")),
    (".hidden", (".hidden",)),
    ("...", ("...",)),
    ("a/.b/..c", ("a", ".b", "..c")),
    ("with space/and-dash_.txt", ("with space", "and-dash_.txt")),
    ("données/файл.py", ("données", "файл.py")),
    ("🐍.py", ("🐍.py",)),
    ("nbsp\u00a0name", ("nbsp\u00a0name",)),
    ("emoji\ufe0f", ("emoji\ufe0f",)),  # a variation selector is a mark, not invisible
    ("e\u0301.txt", ("\u00e9.txt",)),  # NFD in, NFC out
    ("x" * MAX_NAME_BYTES, ("x" * MAX_NAME_BYTES,)),
    ("é" * (MAX_NAME_BYTES // 2), ("é" * (MAX_NAME_BYTES // 2),)),
    ("/".join(LONGEST), LONGEST),
]

BAD = [
    ("", "empty"),
    ("/etc/passwd", "leading '/'"),
    ("//x", "leading '/'"),
    ("a/", "ends with '/'"),
    ("a//b", "empty name"),
    (".", "'.'"),
    ("..", "'..'"),
    ("../x", "'..'"),
    ("a/../b", "'..'"),
    ("a/./b", "'.'"),
    ("a/..", "'..'"),
    ("a\\b", "backslash"),
    ("..\\x", "backslash"),
    ("a\x00b", "control character (U+0000)"),
    ("a\nb", "control character (U+000A)"),
    ("a\tb", "control character"),
    ("a\rb", "control character"),
    ("a\x1bb", "control character"),
    ("a\x7fb", "control character (U+007F)"),  # DEL
    ("a\x85b", "control character (U+0085)"),  # C1 next line
    ("a\x9bb", "control character"),  # C1 CSI
    ("a\u200bb", "invisible formatting character (U+200B)"),  # zero-width space
    ("a\u200cb", "invisible"),  # zero-width non-joiner
    ("a\u200db", "invisible"),  # zero-width joiner
    ("\ufeffa", "invisible"),  # BOM
    ("a\u00adb", "invisible"),  # soft hyphen
    ("evil\u202etxt.py", "invisible formatting character (U+202E)"),  # right-to-left override
    ("a\u202ab", "invisible"),
    ("a\u2066b", "invisible"),  # left-to-right isolate
    ("a\u2069b", "invisible"),  # pop directional isolate
    ("a\u2060b", "invisible"),  # word joiner
    ("a\u2028b", "line separator"),
    ("a\u2029b", "paragraph separator"),
    ("a\udc80b", "surrogate"),
    ("a\u0378b", "unassigned"),
    ("x" * (MAX_NAME_BYTES + 1), "longer than 255 bytes"),
    ("é" * 128, "longer than 255 bytes"),  # 128 characters but 256 bytes
    ("\u0958" * 85, "longer than 255 bytes"),  # 255 bytes raw, 510 after NFC
    ("/".join(["a" * 200] * 6), "longer than 1024 bytes"),
]


def assert_sentence(message: str) -> None:
    """A message a person can read: starts with a capital, ends with a full stop."""
    assert message[:1].isupper(), message
    assert message.endswith("."), message
    assert len(message.split()) >= 4, message


@pytest.mark.parametrize(("raw", "parts"), GOOD)
def test_valid_paths(raw: str, parts: tuple[str, ...]) -> None:
    assert validate_path(raw) == parts


@pytest.mark.parametrize(("raw", "reason"), BAD)
def test_invalid_paths_say_why_in_a_sentence(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPath) as caught:
        validate_path(raw)
    assert reason in caught.value.detail
    assert_sentence(caught.value.detail)
    assert caught.value.status_code == 400


def test_path_length_is_measured_after_normalization() -> None:
    raw = "a/" + "\u0958" * 300  # 902 bytes raw, 1802 bytes after NFC
    assert len(raw.encode()) <= MAX_PATH_BYTES
    with pytest.raises(InvalidPath):
        validate_path(raw)


def test_join_display() -> None:
    assert join_display(("src", "main.py")) == "src/main.py"
    assert join_display(["one"]) == "one"


# Path-like text: separators, dots, and the characters the rules are about.
PATHISH = st.text(
    alphabet=st.sampled_from(
        ["a", "b", "/", ".", "\\", "\x00", "\n", " ", "\u00e9", "e", "\u0301", "\u200b", "\u202e"]
    ),
    max_size=40,
)
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)


@given(raw=st.one_of(PATHISH, ANY_TEXT))
@example(raw="a/../../etc")
@example(raw="\u2024\u2024")  # ONE DOT LEADER: NFKC would make it "..", NFC does not
@example(raw="a" * 2000)
def test_validate_path_either_refuses_or_stays_beneath_the_root(raw: str) -> None:
    try:
        parts = validate_path(raw)
    except InvalidPath as exc:
        assert_sentence(exc.detail)
        return
    assert parts
    for part in parts:
        assert part not in ("", ".", "..")
        assert not {"/", "\\", "\x00"} & set(part)
        assert len(part.encode()) <= MAX_NAME_BYTES
    root = "/srv/sandpit/ws"
    joined = os.path.normpath(os.path.join(root, *parts))
    assert joined.startswith(root + "/")
    assert len(join_display(parts).encode()) <= MAX_PATH_BYTES
    # Validation is idempotent: the canonical form validates to itself.
    assert validate_path(join_display(parts)) == parts


# -- escaped names -----------------------------------------------------------------


@given(
    st.binary(min_size=1, max_size=255).filter(
        lambda b: b"/" not in b and b"\0" not in b and b not in (b".", b"..")
    )
)
def test_any_on_disk_name_escapes_to_printable_ascii_and_back(raw: bytes) -> None:
    name = os.fsdecode(raw)
    shown = display_name(name)
    if shown == name:  # a valid name is shown as it is
        assert validate_path(name) == (name,)
    else:
        assert shown.isascii()
        assert shown.isprintable()
        assert "\\" in shown  # never a valid path, so never another file's
    assert unescape_path(shown) == (name,)
    assert os.fsencode(unescape_path(shown)[0]) == raw


def test_escapes_are_readable() -> None:
    assert display_name("main.py") == "main.py"
    assert display_name("café.py") == "café.py"
    assert display_name("a\x1b[31m") == "a\\u001b[31m"
    assert display_name(os.fsdecode(b"\xff.py")) == "\\xff.py"
    assert display_name("back\\slash") == "back\\\\slash"
    assert display_name("x\U0001f600\u202e") == "x\\U0001f600\\u202e"
    assert join_display(("ok", "a\x07", "b.py")) == "ok/a\\u0007/b.py"
