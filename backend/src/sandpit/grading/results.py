"""The result of a submission's automated checks: the API's `checks` object, in the manner of
Gradescope's `results.json`.

Shape (`CheckResult.to_json`):
    {"status": "pending"|"running"|"done"|"error", "score", "max_score",
     "tests": [{"name", "status", "score", "max_score", "output", "visibility", "reason"?}],
     "lint": [{"path", "line", "column", "code", "message"}],
     "notes": [sentences for the reviewer], "raw_output"?: str}

`status` of a test: `passed`, `failed` (it ran and did not pass), `error`
(it did not report: the process ended early, crashed, timed out, or the
test could not be collected; `reason` says which). `visibility` is one of
`VISIBILITIES` (see `sandpit.grading.visibility`). `raw_output` (the test
process's own output, bounded) and `notes` never name anything the student
could not already see, except `raw_output`, which only reviewers get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

CheckStatus = Literal["pending", "running", "done", "error"]
TestStatus = Literal["passed", "failed", "error"]
Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]

CHECK_STATUSES: tuple[CheckStatus, ...] = ("pending", "running", "done", "error")
TEST_STATUSES: tuple[TestStatus, ...] = ("passed", "failed", "error")
VISIBILITIES: tuple[Visibility, ...] = ("hidden", "after_due_date", "after_published", "visible")

# What a test's output may hold, and the raw output a reviewer gets (characters).
OUTPUT_LIMIT = 4000
RAW_OUTPUT_LIMIT = 64_000
LINT_LIMIT = 500


def bounded(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying so when it was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit} more characters left out)"


@dataclass(frozen=True)
class TestOutcome:
    """One scored test: a test function of a test file (its parametrized cases together)."""

    __test__ = False  # not a test class, for pytest

    name: str  # "test_file.py::test_name" or "test_file.py::TestClass::test_name"
    status: TestStatus
    score: float
    max_score: float
    output: str = ""
    visibility: Visibility = "visible"
    reason: str | None = None  # why it did not run to a result (status `error`), or why 0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "output": self.output,
            "visibility": self.visibility,
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestOutcome:
        """The inverse of `to_json`. Raises `ValueError` on a shape it did not write."""
        status = _one_of(data.get("status"), TEST_STATUSES, "test status")
        visibility = _one_of(data.get("visibility", "visible"), VISIBILITIES, "visibility")
        reason = data.get("reason")
        return cls(
            name=str(data["name"]),
            status=cast(TestStatus, status),
            score=float(data["score"]),
            max_score=float(data["max_score"]),
            output=str(data.get("output", "")),
            visibility=cast(Visibility, visibility),
            reason=None if reason is None else str(reason),
        )


@dataclass(frozen=True)
class LintDiagnostic:
    """One ruff diagnostic, its path relative to the submission."""

    path: str
    line: int
    column: int
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LintDiagnostic:
        return cls(
            path=str(data["path"]),
            line=int(data["line"]),
            column=int(data["column"]),
            code=str(data["code"]),
            message=str(data["message"]),
        )


@dataclass(frozen=True)
class CheckResult:
    """The whole result of one check run. `score` and `max_score` are the tests' sums."""

    status: CheckStatus
    tests: tuple[TestOutcome, ...] = ()
    lint: tuple[LintDiagnostic, ...] = ()
    notes: tuple[str, ...] = ()
    raw_output: str | None = None
    # Only for `error`: why the checks could not run at all (a sentence).
    message: str | None = None

    @property
    def score(self) -> float:
        return round(sum(test.score for test in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(test.max_score for test in self.tests), 4)

    @classmethod
    def pending(cls) -> CheckResult:
        return cls(status="pending")

    @classmethod
    def failed(cls, message: str) -> CheckResult:
        """Checks that could not run (the platform's fault, not the submission's)."""
        return cls(status="error", message=message, notes=(message,))

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "tests": [test.to_json() for test in self.tests],
            "lint": [diagnostic.to_json() for diagnostic in self.lint],
            "notes": list(self.notes),
        }
        if self.raw_output is not None:
            data["raw_output"] = self.raw_output
        if self.message is not None:
            data["message"] = self.message
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckResult:
        """The inverse of `to_json` (score and max_score are recomputed from the tests).

        Raises `ValueError` (or `KeyError`, `TypeError`) on a shape it did not write.
        """
        status = _one_of(data.get("status"), CHECK_STATUSES, "check status")
        raw = data.get("raw_output")
        message = data.get("message")
        return cls(
            status=cast(CheckStatus, status),
            tests=tuple(TestOutcome.from_json(item) for item in data.get("tests", [])),
            lint=tuple(LintDiagnostic.from_json(item) for item in data.get("lint", [])),
            notes=tuple(str(note) for note in data.get("notes", [])),
            raw_output=None if raw is None else str(raw),
            message=None if message is None else str(message),
        )


def _one_of(value: object, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"unknown {what}: {value!r}")
    return value


__all__ = [
    "CHECK_STATUSES",
    "OUTPUT_LIMIT",
    "RAW_OUTPUT_LIMIT",
    "VISIBILITIES",
    "CheckResult",
    "CheckStatus",
    "LintDiagnostic",
    "TestOutcome",
    "TestStatus",
    "Visibility",
    "bounded",
]
