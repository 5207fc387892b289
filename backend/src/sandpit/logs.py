"""Logging set-up for the server process: one line per record, to standard error.

A server process that ends unexpectedly must leave its reason behind:
`install_crash_reports` makes fatal signals (SIGSEGV, SIGABRT, SIGBUS, ...)
dump every thread's stack to standard error (`faulthandler`), and uncaught
exceptions in the main thread and in worker threads go to the log with their
traceback. The service manager (docs/deployment) keeps standard error in
its journal and restarts the process.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
from types import TracebackType

from sandpit import fds

log = logging.getLogger("sandpit")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # uvicorn's access log is useful, but keep its format consistent with ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def install_crash_reports(*, fd_guard: bool = False) -> None:
    """Make fatal signals and uncaught exceptions leave a trace; optionally guard closes."""
    faulthandler.enable(file=sys.stderr, all_threads=True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    if fd_guard:
        fds.install_guard(report=lambda found: log.error("fd guard: %s", found.describe()))


def _log_uncaught(
    kind: type[BaseException], value: BaseException, trace: TracebackType | None
) -> None:
    log.critical("uncaught exception; the server stops", exc_info=(kind, value, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    log.critical("uncaught exception in thread %s", name, exc_info=exc_info)
