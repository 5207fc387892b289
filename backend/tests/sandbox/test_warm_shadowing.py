"""Shadowing: whatever in the workspace would change what an import returns runs fresh.

Each case puts something in the workspace (or its user site, as pip would
leave it) and asserts the run started fresh, saying it was shadowed, and
that the user's module won; then takes it away and asserts the next run is
warm again (the listing cache follows directory changes).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sandpit.sandbox.environment import run_env
from tests.sandbox.conftest import Sandboxes, Workspaces
from tests.sandbox.warm_runs import is_warm, run_file, until_warm

USER_SITE = ".local/lib/python3.11/site-packages"

# (what to create: path -> text, program, what its stdout must hold)
CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "a numpy.py in /app": (
        {"numpy.py": "WHO = 'mine'\n"},
        "import numpy\nprint(numpy.WHO)\n",
        "mine",
    ),
    "a pandas/ package in /app": (
        {"pandas/__init__.py": "WHO = 'my pandas'\n"},
        "import pandas\nprint(pandas.WHO)\n",
        "my pandas",
    ),
    "a dependency of the preload set in /app": (
        {"dateutil.py": "WHO = 'my dateutil'\n"},
        "import dateutil\nprint(dateutil.WHO)\n",
        "my dateutil",
    ),
    "a numpy.py beside a script in a subdirectory": (
        {"sub/numpy.py": "WHO = 'beside'\n"},
        "import numpy\nprint(numpy.WHO)\n",
        "beside",
    ),
    "numpy pip-installed in the user site": (
        {f"{USER_SITE}/numpy/__init__.py": "WHO = 'pip numpy'\n"},
        "import numpy\nprint(numpy.WHO)\n",
        "pip numpy",
    ),
    "a .pth file in the user site": (
        {f"{USER_SITE}/hook.pth": "import os; os.environ['PTH_RAN'] = 'yes'\n"},
        "import os\nprint(os.environ.get('PTH_RAN'))\n",
        "yes",
    ),
    "a sitecustomize.py in /app": (
        {"sitecustomize.py": "import builtins\nbuiltins.CUSTOMIZED = 'site'\n"},
        "print(CUSTOMIZED)\n",
        "site",
    ),
    "a matplotlibrc in the working directory": (
        {"matplotlibrc": "lines.linewidth: 7\n"},
        "import matplotlib\nprint(matplotlib.rcParams['lines.linewidth'])\n",
        "7.0",
    ),
    "a usercustomize.py in the user site": (
        {f"{USER_SITE}/usercustomize.py": "import builtins\nbuiltins.CUSTOMIZED = 'user'\n"},
        "print(CUSTOMIZED)\n",
        "user",
    ),
}


def _remove(workspace: Path, files: dict[str, str]) -> None:
    for name in files:
        top = workspace / name.split("/")[0]
        if top.is_dir():
            shutil.rmtree(top)
        else:
            top.unlink(missing_ok=True)


async def test_each_kind_of_shadowing_runs_fresh_and_the_users_module_wins(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    for case, (files, program, expected) in CASES.items():
        script = "sub/main.py" if case.endswith("subdirectory") else "main.py"
        for name, text in {**files, script: program}.items():
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            (workspace / name).write_text(text)
        outcome = await run_file(sandbox, script, warm=True)
        assert outcome.interpreter is not None, case
        assert not outcome.interpreter.warm, case
        assert outcome.interpreter.why == "shadowed", (case, outcome.interpreter)
        assert (outcome.status, outcome.stdout.decode()) == ("ok", expected + "\n"), (
            case,
            outcome,
        )
        _remove(workspace, {**files, script: ""})
        (workspace / "main.py").write_text("print('plain')\n")
        again = await run_file(sandbox, "main.py", warm=True)
        assert is_warm(again), (case, "not warm again after the shadow went", again.interpreter)


async def test_a_package_that_shadows_nothing_stays_warm_and_imports(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    package = workspace / USER_SITE / "mytool"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("WHO = 'mytool'\n")
    (workspace / "main.py").write_text("import sys, mytool\nprint(mytool.WHO, mytool.__file__)\n")
    warm = await run_file(sandbox, "main.py", warm=True)
    fresh = await run_file(sandbox, "main.py", warm=False)
    assert is_warm(warm), warm.interpreter
    assert (
        warm.stdout == fresh.stdout == (f"mytool /app/{USER_SITE}/mytool/__init__.py\n".encode())
    ), (warm, fresh)


async def test_an_environment_that_changes_start_up_runs_fresh(
    sandboxes: Sandboxes, workspaces: Workspaces
) -> None:
    workspace = workspaces.new()
    sandbox = await sandboxes.start(workspace=workspace)
    await until_warm(sandbox, workspace)
    (workspace / "main.py").write_text("import sys\nprint(sys.flags.hash_randomization)\n")
    env = {**run_env(1.0), "PYTHONHASHSEED": "0"}
    outcome = await run_file(sandbox, "main.py", warm=True, env=env)
    assert outcome.interpreter is not None
    assert (outcome.interpreter.warm, outcome.interpreter.why) == (False, "environment")
    assert outcome.stdout == b"0\n"
