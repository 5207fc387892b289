"""From what the test process reported to a `CheckResult`: pure, so every rule is unit-tested.

The tests that count are fixed beforehand (`discovery.expected_tests`);
the process's records only say how each went. Rules:
- a record counts only on a line that starts with the run's nonce (other
  lines are forgeries: counted in a note, never read);
- a test passes only if every case pytest collected for it reported
  `passed`; a case reported `tampered` scores the test 0, with what changed;
- a test with no report scores 0, with the reason: its file could not be
  collected, the time limit passed, or the process ended (how) before it
  reported; results for tests the assignment does not have are ignored.
Scores come from the expected tests' points, never from the process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandpit.grading.discovery import ExpectedTest, function_of
from sandpit.grading.results import OUTPUT_LIMIT, TestOutcome, bounded


@dataclass
class Records:
    """What the test process reported, from its results channel."""

    started: bool = False
    collected: list[str] | None = None
    collect_errors: dict[str, str] = field(default_factory=dict)  # file node id -> output
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)  # node id -> record
    forged_lines: int = 0
    # Test records before the `collected` one: tests run only after collection.
    early_results: int = 0


def parse_records(data: bytes, nonce: str) -> Records:
    """Read the channel's lines; lines without the nonce or not JSON count as forged."""
    records = Records()
    prefix = nonce.encode() + b" "
    for line in data.split(b"\n"):
        if not line:
            continue
        if not line.startswith(prefix):
            records.forged_lines += 1
            continue
        try:
            record = json.loads(line[len(prefix) :])
        except ValueError:
            records.forged_lines += 1
            continue
        if not isinstance(record, dict):
            records.forged_lines += 1
            continue
        _take(records, record)
    return records


def _take(records: Records, record: dict[str, Any]) -> None:
    kind = record.get("kind")
    if kind == "started":
        records.started = True
    elif kind == "collected" and isinstance(record.get("nodeids"), list):
        records.collected = [str(nodeid) for nodeid in record["nodeids"]]
    elif kind == "collect_error":
        records.collect_errors[str(record.get("nodeid", ""))] = str(record.get("output", ""))
    elif kind == "test" and "nodeid" in record:
        if records.collected is None:
            records.early_results += 1
            return
        records.tests[str(record["nodeid"])] = record


@dataclass(frozen=True)
class Ending:
    """How the test process ended: its exit code or signal, or the time limit."""

    code: int | None
    signal: int | None
    timed_out: bool
    timeout_s: float
    # The whole sandbox ended under it (code and signal unknown).
    sandbox_ended: bool = False

    def sentence(self) -> str:
        if self.sandbox_ended:
            return "The sandbox ended while the tests ran, before this test reported."
        if self.timed_out:
            return (
                f"The checks passed their {self.timeout_s:g} s time limit "
                "before this test reported."
            )
        if self.signal is not None:
            return f"The test process was killed (signal {self.signal}) before this test reported."
        return f"The test process ended (exit code {self.code}) before this test reported."


@dataclass(frozen=True)
class Scored:
    outcomes: list[TestOutcome]
    notes: list[str]


def score(
    expected: Sequence[tuple[str, str, ExpectedTest]], records: Records, ending: Ending
) -> Scored:
    """Score each expected test: (the node id prefix pytest gives it, its shown name, the test)."""
    notes: list[str] = []
    outcomes: list[TestOutcome] = []
    by_function: dict[str, list[dict[str, Any]]] = {}
    for nodeid, record in records.tests.items():
        by_function.setdefault(function_of(nodeid), []).append(record)
    collected: dict[str, int] = {}
    for nodeid in records.collected or []:
        collected[function_of(nodeid)] = collected.get(function_of(nodeid), 0) + 1
    known = {key for key, _, _ in expected}
    tampered: set[str] = set()
    for key, shown, test in expected:
        reports = by_function.get(key, [])
        outcome = _one(shown, test, reports, collected.get(key, 0), records, ending, key)
        outcomes.append(outcome)
        for report in reports:
            tampered.update(str(name) for name in report.get("changed", []))
    strangers = [key for key in by_function if key not in known]
    if strangers:
        notes.append(
            f"{len(strangers)} result(s) for tests the assignment does not have were ignored."
        )
    if records.forged_lines:
        notes.append(
            f"{records.forged_lines} line(s) on the results channel did not carry this run's "
            "secret and were ignored: something in the submission tried to write results."
        )
    if records.early_results:
        notes.append(
            f"{records.early_results} result(s) arrived before pytest had collected the tests "
            "and were ignored: something in the submission wrote them."
        )
    if tampered:
        notes.append(
            "The submission changed what tests run on ("
            + ", ".join(sorted(tampered)[:10])
            + "); the tests it affected score 0."
        )
    if not records.started:
        notes.append("The test process ended before the harness started (see the raw output).")
    return Scored(outcomes, notes)


def _one(
    shown: str,
    test: ExpectedTest,
    reports: list[dict[str, Any]],
    collected: int,
    records: Records,
    ending: Ending,
    key: str,
) -> TestOutcome:
    def outcome(status: str, points: float, output: str, reason: str | None) -> TestOutcome:
        return TestOutcome(
            name=shown,
            status=status,  # type: ignore[arg-type]
            score=points,
            max_score=test.points,
            output=bounded(output, OUTPUT_LIMIT),
            visibility=test.visibility,
            reason=reason,
        )

    output = "\n".join(str(report.get("output", "")) for report in reports if report.get("output"))
    if not reports:
        file_key = key.split("::", 1)[0]
        if file_key in records.collect_errors:
            return outcome(
                "error",
                0.0,
                records.collect_errors[file_key],
                "The test file could not be collected (the submission failed to import?).",
            )
        if records.collected is not None and collected == 0 and not ending.timed_out:
            return outcome("error", 0.0, "", "pytest did not collect this test.")
        return outcome("error", 0.0, "", ending.sentence())
    results = [str(report.get("outcome")) for report in reports]
    if "tampered" in results:
        changed = sorted({str(name) for report in reports for name in report.get("changed", [])})
        reason = "The submission changed " + ", ".join(changed[:5]) + " around this test."
        return outcome("error", 0.0, output, reason)
    if len(reports) < max(collected, 1):
        return outcome("error", 0.0, output, ending.sentence())
    if all(result == "passed" for result in results):
        return outcome("passed", test.points, output, None)
    if "skipped" in results:
        return outcome("failed", 0.0, output, "The test was skipped.")
    return outcome("failed", 0.0, output, None)


# pytest's last line with -q: "1 failed, 5 passed in 0.41s" (counts in any order).
_SUMMARY = re.compile(r"^(?:=+ )?((?:\d+ \w+(?:, )?)+) in [\d.]+s", re.MULTILINE)
_COUNT = re.compile(r"(\d+) (\w+)")


def summary_note(raw_output: str, records: Records, ending: Ending) -> str | None:
    """A note when pytest's own account disagrees with the records on how many passed.

    A second, independent account: a forger who writes records must also
    fake pytest's terminal output, or this note tells the reviewer. pytest
    prints its summary line whenever it ends by itself; a process that
    exited 0 or 1 without one ended another way (`os._exit`). None when
    the two agree, or when the process was killed or timed out.
    """
    found = _SUMMARY.findall(raw_output)
    if not found:
        if ending.timed_out or ending.signal is not None or ending.code not in (0, 1):
            return None
        if not any(record.get("outcome") == "passed" for record in records.tests.values()):
            return None
        return (
            f"The test process exited (code {ending.code}) without pytest's summary, yet "
            "results say tests passed: the process was ended from inside (see the raw output)."
        )
    counts = {word: int(number) for number, word in _COUNT.findall(found[-1])}
    said = counts.get("passed", 0)
    passed = sum(1 for record in records.tests.values() if record.get("outcome") == "passed")
    tampered = sum(1 for record in records.tests.values() if record.get("outcome") == "tampered")
    if passed <= said <= passed + tampered:
        return None
    return (
        f"pytest's own summary says {said} passed but the harness recorded {passed}: "
        "one of the two was forged or cut short (see the raw output)."
    )
