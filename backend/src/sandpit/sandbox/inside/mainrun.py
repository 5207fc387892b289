"""Run a program's source as `__main__`, the way `python3 <file>` runs it.

THIS FILE RUNS INSIDE THE SANDBOX (runtime image's Python, sandbox user):
standard library only, nothing from `sandpit`. It is shared by the two
places that run user code in an interpreter that did not start with it:
`run_code.py` (a code string sent through a pipe) and the forks of the warm
interpreter (`warm.py`), so both give the same `__main__`, the same
tracebacks and the same exit as a fresh `python3 main.py`.

What a fresh interpreter does, and this repeats:
- a `__main__` module holding `__name__`, `__doc__`, `__package__`,
  `__loader__` (a `SourceFileLoader`), `__spec__` (None), `__annotations__`,
  `__builtins__`, `__file__` and `__cached__` (None), in `sys.modules`;
- the source compiled with no future flags of the caller, coding cookies
  honoured (the source is bytes);
- an unhandled exception printed by `sys.excepthook` with a traceback that
  starts at the user's file: the frames of this file and of its caller are
  cut off (`strip_ours`), then the interpreter exits with 1, or by SIGINT
  for a KeyboardInterrupt, after threads, atexit handlers and the flush of
  the standard streams, exactly as at the end of a fresh run, because the
  exception is left to reach the caller's top level and the interpreter's
  own handling.
"""

import builtins
import sys

# The files whose frames precede user code; a traceback shown to the user
# starts after the last of them.
_OURS: set[str] = {__file__}


def add_own_file(path: str) -> None:
    """Count `path` (the caller's script) among the files whose frames are cut off."""
    _OURS.add(path)


def new_main(filename: str) -> dict[str, object]:
    """A fresh `__main__` module for `filename`, put in `sys.modules`; its namespace."""
    loader_class = sys.modules["_frozen_importlib_external"].SourceFileLoader
    main = type(sys)("__main__")
    namespace = main.__dict__
    namespace.update(
        __package__=None,
        __loader__=loader_class("__main__", filename),
        __spec__=None,
        __annotations__={},
        __builtins__=builtins,
        __file__=filename,
        __cached__=None,
    )
    sys.modules["__main__"] = main
    return namespace


def run_as_main(source: bytes, filename: str) -> None:
    """Compile and run `source` as `__main__` from `filename`; exceptions propagate.

    The caller lets an exception reach its top level, so the interpreter
    handles it as it would a script's (see the module docstring).
    """
    namespace = new_main(filename)
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, namespace)  # noqa: S102 - running user code is the point
    except SystemExit:
        raise  # the interpreter prints its message, if any; no traceback
    except BaseException:
        sys.excepthook = _Stripping(sys.excepthook)
        raise


def strip_ours(tb: object) -> object:
    """`tb` without its leading frames from our files (None when none are the user's)."""
    while tb is not None and tb.tb_frame.f_code.co_filename in _OURS:  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return tb


class _Stripping:
    """A one-shot `sys.excepthook`: cuts our frames, puts the user's hook back, calls it."""

    def __init__(self, hook: object) -> None:
        self.hook = hook

    def __call__(self, kind: type[BaseException], value: BaseException, tb: object) -> None:
        sys.excepthook = self.hook  # type: ignore[assignment]
        tb = strip_ours(tb)
        value.__traceback__ = tb  # type: ignore[assignment]
        self.hook(kind, value, tb)  # type: ignore[operator]
