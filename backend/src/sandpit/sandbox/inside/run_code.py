"""Run a code string sent by the server on descriptor 4, as `__main__`.

Runs inside the sandbox. A code string can be up to 1 MiB, more than one
command-line argument may hold, so it travels through a pipe; standard
input stays free for the program's own input().
"""

import sys


def main() -> None:
    with open(4, "rb", closefd=True) as source:
        code = source.read()
    sys.argv = ["main.py"]
    # As for `python3 main.py` in /app: the workspace comes first on the path.
    sys.path[0] = "/app"
    namespace = {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__}
    exec(compile(code, "main.py", "exec"), namespace)  # noqa: S102 - running user code is the point


main()
