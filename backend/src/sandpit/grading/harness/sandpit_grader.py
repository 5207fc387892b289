"""The grading harness's pytest plugin: in-memory test modules, per-test reports, tamper checks.

Loaded by run.py before any of the submission's code; see docs/architecture/grading.md.

- Test modules are compiled from the sources run.py read from its bundle
  (pytest's assertion rewriting applied), never read from a file: the paths
  pytest collects are empty placeholders.
- Every record goes to the results descriptor as one line: the run's nonce,
  a space, JSON. Lines without the nonce are forgeries (the host counts
  them). Records: `collected` (every item's node id, after collection),
  `collect_error`, `test` (one per item, after its teardown), `tampered`.
- Tamper checks: what a test's outcome rests on (builtins, unittest's
  TestCase, pytest's runner, reports, outcomes, pluggy, this module) is
  snapshotted before the submission is imported, compared before and after
  every test and restored; a test during or before which something changed
  reports `tampered` with what changed, and scores 0.
A submission can still forge from inside this process with effort (read the
nonce from this module's memory, write to the descriptor); the docs say how
a reviewer sees that.
"""

import ast
import builtins
import json
import linecache
import os
import sys
import types
import unittest
import unittest.case

import _pytest.main
import _pytest.outcomes
import _pytest.python
import _pytest.reports
import _pytest.runner
import pluggy
import pytest
from _pytest.assertion.rewrite import rewrite_asserts

OUTPUT_LIMIT = 8000

_write = os.write
_dumps = json.dumps
_state: dict[str, object] = {}
_sources: dict[str, str] = {}
_phases: dict[str, list[pytest.TestReport]] = {}
_tampered: dict[str, list[str]] = {}


def install(nonce: str, fd: int, sources: dict[str, str]) -> None:
    """Called by run.py before pytest starts: where records go, and the tests' sources."""
    _state["nonce"] = nonce.encode()
    _state["fd"] = fd
    _sources.update({str(path): str(text) for path, text in sources.items()})
    for path, text in _sources.items():
        # Tracebacks show the tests' lines although no file holds them.
        linecache.cache[path] = (len(text), None, text.splitlines(True), path)
    _snapshot()


def send(record: dict[str, object]) -> None:
    line = _state["nonce"] + b" " + _dumps(record).encode() + b"\n"  # type: ignore[operator]
    view = memoryview(line)
    while view:
        view = view[_write(_state["fd"], view) :]  # type: ignore[arg-type]


# --- in-memory test modules ------------------------------------------------------------


class MemoryModule(pytest.Module):
    """A test module compiled from the bundle's source rather than imported from a file."""

    def _getobj(self) -> types.ModuleType:
        path = str(self.path)
        source = _sources[path]
        name = "sandpit_tests_" + str(len(sys.modules))
        module = types.ModuleType(name)
        module.__file__ = path
        try:
            tree = ast.parse(source, filename=path)
            rewrite_asserts(tree, source.encode(), path, self.config)
            code = compile(tree, path, "exec", dont_inherit=True)
            sys.modules[name] = module
            exec(code, module.__dict__)  # noqa: S102 - the assignment's own tests
        except pytest.skip.Exception:
            raise
        except (Exception, SystemExit) as exc:
            # The submission's import failing (or exiting) fails collection with its traceback.
            info = pytest.ExceptionInfo.from_exception(exc)
            raise self.CollectError(str(info.getrepr(style="short"))) from exc
        self.config.pluginmanager.consider_module(module)
        return module


def pytest_pycollect_makemodule(module_path: object, parent: pytest.Collector) -> object:
    if str(module_path) in _sources:
        return MemoryModule.from_parent(parent, path=module_path)
    return None


# --- records ---------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): what the test is worth (default 1)")
    config.addinivalue_line("markers", "visibility(v): who sees the test's result and when")
    send({"kind": "started"})


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        send(
            {"kind": "collect_error", "nodeid": report.nodeid, "output": _cut(report.longreprtext)}
        )


def pytest_collection_finish(session: pytest.Session) -> None:
    send({"kind": "collected", "nodeids": [item.nodeid for item in session.items]})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    changed = _check_and_restore()
    if changed:
        _tampered.setdefault(item.nodeid, []).extend(changed)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    if call.when == "call":
        changed = _check_and_restore()
        if changed:
            _tampered.setdefault(item.nodeid, []).extend(changed)
    yield


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _phases.setdefault(report.nodeid, []).append(report)
    if report.when != "teardown":
        return
    phases = _phases.pop(report.nodeid)
    record: dict[str, object] = {"kind": "test", "nodeid": report.nodeid}
    tampered = _tampered.pop(report.nodeid, None)
    if tampered:
        record["outcome"] = "tampered"
        record["changed"] = sorted(set(tampered))
    elif any(phase.skipped for phase in phases):
        record["outcome"] = "skipped"
    elif any(phase.failed for phase in phases):
        call = [phase for phase in phases if phase.when == "call"]
        record["outcome"] = "failed" if call and call[0].failed else "error"
    else:
        record["outcome"] = "passed"
    record["output"] = _cut(_output(phases))
    send(record)


def _output(phases: list[pytest.TestReport]) -> str:
    parts = []
    for phase in phases:
        if phase.failed or phase.skipped:
            parts.append(phase.longreprtext)
    last = phases[-1]
    for title, content in last.sections:
        parts.append(f"--- {title} ---\n{content}")
    return "\n".join(part for part in parts if part)


def _cut(text: str) -> str:
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n…"


# --- tamper checks ---------------------------------------------------------------------

# name -> the object whose attributes a test's outcome rests on.
WATCHED: dict[str, object] = {
    "builtins": builtins,
    "unittest.case": unittest.case,
    "unittest.TestCase": unittest.TestCase,
    "_pytest.runner": _pytest.runner,
    "_pytest.runner.CallInfo": _pytest.runner.CallInfo,
    "_pytest.python": _pytest.python,
    "_pytest.python.Function": _pytest.python.Function,
    "_pytest.reports": _pytest.reports,
    "_pytest.reports.TestReport": _pytest.reports.TestReport,
    "_pytest.reports.BaseReport": _pytest.reports.BaseReport,
    "_pytest.outcomes": _pytest.outcomes,
    "_pytest.main": _pytest.main,
    "pluggy.HookCaller": pluggy.HookCaller,
    "pluggy.PluginManager": pluggy.PluginManager,
    "pytest": pytest,
    "os": os,
    "json": json,
    "sandpit_grader": sys.modules[__name__],
}
_snapshots: dict[str, dict[str, object]] = {}
# Attributes that change as this plugin or pytest runs (not the submission's doing).
_MUTABLE = frozenset(
    {
        "_state",
        "_sources",
        "_phases",
        "_tampered",
        "_snapshots",
        "_pytest_diamond_inheritance_warning_shown",  # set on Function at collection
    }
)


def _namespace(target: object) -> dict[str, object]:
    return dict(vars(target))


def _snapshot() -> None:
    for name, target in WATCHED.items():
        _snapshots[name] = _namespace(target)


def _check_and_restore() -> list[str]:
    """What changed in the watched objects since the snapshot ("unittest.TestCase.assertEqual")."""
    changed: list[str] = []
    for name, target in WATCHED.items():
        before = _snapshots[name]
        now = vars(target)
        for key in before.keys() | now.keys():
            if key in _MUTABLE or key.startswith("__"):
                continue
            if key not in now or key not in before or now[key] is not before[key]:
                changed.append(f"{name}.{key}")
                _restore(target, key, before)
    return changed


def _restore(target: object, key: str, before: dict[str, object]) -> None:
    try:
        if key in before:
            setattr(target, key, before[key])
        else:
            delattr(target, key)
    except (AttributeError, TypeError):  # a read-only attribute: reported all the same
        pass
