"""Which tests an assignment's test files hold, read on the host from their source (never run).

What the checks must report on is fixed here, before any submission runs:
a test the test process never reports on still counts, scoring 0 with a
reason. A scored test is a test function as pytest finds it by default
(module-level `test*` functions, `test*` methods of `Test*` classes without
`__init__`); its parametrized cases are reported together.

Marks read from the source (literal arguments only):
- `@pytest.mark.points(n)` on a function or its class: what it is worth (default 1);
- `@pytest.mark.visibility("after_due_date")` likewise (default: the
  caller's, by whether the file is a hidden or a visible test file).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from sandpit.grading.results import VISIBILITIES, Visibility


class TestFileError(ValueError):
    """A test file that cannot be read as Python (the reviewer's to fix): a sentence."""

    __test__ = False  # not a test class, for pytest


@dataclass(frozen=True)
class ExpectedTest:
    """One test the checks must report on: `file::name` or `file::Class::name`."""

    name: str
    points: float
    visibility: Visibility


def expected_tests(path: str, source: str, default: Visibility) -> list[ExpectedTest]:
    """The tests in one test file, in source order. Raises `TestFileError`."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as exc:
        raise TestFileError(f"The test file {path} is not valid Python: {exc.msg}.") from exc
    found: list[ExpectedTest] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            points, visibility = _marks(node.decorator_list, 1.0, default)
            found.append(ExpectedTest(f"{path}::{node.name}", points, visibility))
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            if any(
                isinstance(item, ast.FunctionDef) and item.name == "__init__" for item in node.body
            ):
                continue  # pytest does not collect it either
            class_points, class_visibility = _marks(node.decorator_list, 1.0, default)
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    item.name.startswith("test")
                ):
                    points, visibility = _marks(item.decorator_list, class_points, class_visibility)
                    found.append(
                        ExpectedTest(f"{path}::{node.name}::{item.name}", points, visibility)
                    )
    return found


def _marks(
    decorators: list[ast.expr], points: float, visibility: Visibility
) -> tuple[float, Visibility]:
    for decorator in decorators:
        if not isinstance(decorator, ast.Call) or not decorator.args:
            continue
        name = _mark_name(decorator.func)
        if name is None:
            continue
        value = decorator.args[0]
        if not isinstance(value, ast.Constant):
            continue
        if name == "points" and isinstance(value.value, int | float) and value.value >= 0:
            points = float(value.value)
        elif name == "visibility" and value.value in VISIBILITIES:
            visibility = value.value
    return points, visibility


def _mark_name(func: ast.expr) -> str | None:
    """`points` for `pytest.mark.points` or `mark.points`; else None."""
    if not isinstance(func, ast.Attribute):
        return None
    owner = func.value
    if isinstance(owner, ast.Attribute) and owner.attr == "mark":
        return func.attr
    if isinstance(owner, ast.Name) and owner.id == "mark":
        return func.attr
    return None


def function_of(nodeid: str) -> str:
    """The scored test a pytest node id belongs to: its parametrization cut off."""
    return nodeid.split("[", 1)[0]
