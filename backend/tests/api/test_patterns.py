"""The schema's patterns agree with the rules the server enforces: whatever a
pattern matches, the rule accepts; what the rule refuses, the pattern does not match."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandpit.api import patterns
from sandpit.errors import BadRequest
from sandpit.services.workspaces import NAME_MAX, clean_name
from sandpit.workspaces.paths import validate_path

PATH = re.compile(str(patterns.workspace_path()["pattern"]))
NAME = re.compile(patterns.name_pattern(NAME_MAX))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.from_regex(PATH, fullmatch=True))
def test_a_path_the_pattern_matches_is_valid(path: str) -> None:
    assert validate_path(path)


@FAST
@given(st.from_regex(NAME, fullmatch=True))
def test_a_name_the_pattern_matches_is_valid(name: str) -> None:
    assert clean_name(name)


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/abs",
        "a/",
        "a//b",
        ".",
        "..",
        "a/../b",
        "a/./b",
        "back\\slash",
        "nul\x00",
        "tab\t",
        "bidi\u202eyp",
        "zero\u200bwidth",
        "x" * 256,
        "/".join(["d" * 60] * 5),
    ],
)
def test_paths_the_server_refuses_do_not_match(path: str) -> None:
    assert PATH.fullmatch(path) is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\u202ename", "tab\tname", "\ue000"])
def test_names_the_server_refuses_do_not_match(name: str) -> None:
    assert NAME.fullmatch(name) is None
    if name.strip() and len(name) <= NAME_MAX:
        with pytest.raises(BadRequest):
            clean_name(name)


@pytest.mark.parametrize("path", ["main.py", "src/app/main.py", ".env", "...", "a b/ü.txt"])
def test_ordinary_paths_match(path: str) -> None:
    assert PATH.fullmatch(path) is not None
