"""How a run's Python started, in words: the warm interpreter, or fresh and why.

The sandbox says which way (`sandpit.sandbox.base.Interpreter`, checked at
the channel); this turns it into what the run records and its console
shows. Nothing here is acted on: a wrong answer from a sandbox can only
mislabel its own run.
"""

from __future__ import annotations

from sandpit.sandbox.base import Interpreter

_WHY = {
    "starting": "the warm interpreter was not ready yet",
    "environment": "the run's environment differs from the warm interpreter's",
    "unavailable": "the warm interpreter did not answer; a new one is starting",
    "not_python": "it is not a Python run",
}
OFF = "the warm interpreter is off (WARM_INTERPRETER=false)"


def describe(interpreter: Interpreter | None, *, enabled: bool) -> tuple[str | None, str | None]:
    """("warm" | "fresh" | None, a note saying why fresh) for the run's record.

    None when nothing started (the run failed before) or the sandbox did not say.
    """
    if not enabled:
        return "fresh", OFF
    if interpreter is None:
        return None, None
    if interpreter.warm:
        return "warm", None
    if interpreter.why == "shadowed":
        where = interpreter.detail or "a file in the workspace"
        return "fresh", f"{where} shadows a module the warm interpreter holds"
    return "fresh", _WHY.get(interpreter.why or "")
