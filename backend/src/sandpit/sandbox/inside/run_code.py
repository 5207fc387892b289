"""Run a code string sent by the server on descriptor 4, as `__main__` from `main.py`.

Runs inside the sandbox. A code string can be up to 1 MiB, more than one
command-line argument may hold, so it travels through a pipe; standard
input stays free for the program's own input(). As for `python3 main.py`
in /app: `sys.argv` is `["main.py"]` and the workspace comes first on the
path; `mainrun` gives the program its `__main__` and its tracebacks.
"""

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandpit.sandbox.inside import mainrun
else:
    import mainrun  # beside this file: sys.path[0] until it becomes /app below

del sys.modules["mainrun"]  # not in a fresh interpreter's modules; the name stays here
mainrun.add_own_file(__file__)

with open(4, "rb", closefd=True) as _source:
    _code = _source.read()
sys.argv = ["main.py"]
sys.path[0] = "/app"
mainrun.run_as_main(_code, "main.py")
