"""Checks a freshly built runtime image from the inside, and describes it.

The builder runs this as the last build step, inside the finished image with
bubblewrap: read-only root, a tmpfs /tmp, no network, uid 1000, started by an
unprivileged host user. It exits non-zero with a message on stderr if anything
a user relies on is missing, and otherwise prints one JSON object on stdout
(interpreter, Debian and Python package versions) that the builder records.
"""

# The heavy imports sit inside the checks on purpose: the imports check comes
# first and names the module that fails; matplotlib.use() must precede pyplot.
# ruff: noqa: PLC0415

from __future__ import annotations

import importlib
import importlib.metadata
import json
import locale
import os
import pwd
import subprocess
import sys
from pathlib import Path

MODULES = [
    "numpy",
    "numpy.linalg",
    "numpy.fft",
    "numpy.random",
    "numpy.testing",
    "pandas",
    "pandas.plotting",
    "scipy",
    "scipy.cluster",
    "scipy.fft",
    "scipy.integrate",
    "scipy.interpolate",
    "scipy.io",
    "scipy.linalg",
    "scipy.ndimage",
    "scipy.optimize",
    "scipy.signal",
    "scipy.sparse",
    "scipy.spatial",
    "scipy.special",
    "scipy.stats",
    "matplotlib",
    "matplotlib.pyplot",
    "PIL.Image",
    "venv",
    "sqlite3",
    "ssl",
    "zoneinfo",
]


def fail(message: str) -> None:
    print(f"smoke test failed: {message}", file=sys.stderr)
    sys.exit(1)


def check_user() -> None:
    entry = pwd.getpwuid(os.getuid())
    if (entry.pw_name, entry.pw_uid, entry.pw_dir) != ("sandbox", 1000, "/app"):
        fail(f"expected user sandbox (1000) with home /app, got {entry}")


def check_locale() -> None:
    locale.setlocale(locale.LC_ALL, "")
    if sys.getfilesystemencoding() != "utf-8" or locale.getpreferredencoding() != "UTF-8":
        fail("the C.UTF-8 locale is not in effect")


def check_imports() -> None:
    for name in MODULES:
        importlib.import_module(name)


def check_computation() -> None:
    import numpy as np
    import pandas as pd
    from scipy import optimize

    matrix = np.array([[2.0, 1.0], [1.0, 3.0]])
    if not np.allclose(matrix @ np.linalg.inv(matrix), np.eye(2)):
        fail("numpy's linear algebra gives wrong answers")
    result = optimize.minimize(lambda x: (x[0] - 3.0) ** 2, x0=[0.0])
    if abs(result.x[0] - 3.0) > 1e-4:
        fail("scipy.optimize did not converge")
    frame = pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    if frame.groupby("k")["v"].sum().to_dict() != {"a": 4, "b": 2}:
        fail("pandas groupby gives wrong answers")


def check_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.plot([1, 2, 3], [1, 4, 9])
    axes.set_title("Grüße, π ≈ 3.14")
    target = Path("/tmp/smoke.png")  # noqa: S108 - the sandbox's own tmpfs
    figure.savefig(target)
    if target.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n" or target.stat().st_size < 1000:
        fail("matplotlib did not write a PNG")


def check_shared_libraries() -> None:
    """Every extension module finds its libraries (the *.libs folders are loaded by rpath)."""
    site = Path(sys.argv[1])
    for path in sorted(site.rglob("*.so")):
        if any(part.endswith(".libs") for part in path.parts):
            continue
        output = subprocess.run(  # noqa: S603 - a fixed program on a file of the image
            ["/usr/bin/ldd", str(path)], capture_output=True, text=True, check=False
        ).stdout
        missing = [line.strip() for line in output.splitlines() if "not found" in line]
        if missing:
            fail(f"{path} needs libraries the image lacks: {missing}")


def check_pip() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        fail(f"pip check: {result.stdout}{result.stderr}")


def check_grading_tools() -> None:
    """pytest and ruff run without network: a submission's checks need both (sandpit.grading)."""
    for argv in ([sys.executable, "-m", "pytest", "--version"], ["ruff", "--version"]):
        result = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            fail(f"{' '.join(argv)}: {result.stdout}{result.stderr}")


def debian_packages() -> dict[str, str]:
    packages: dict[str, str] = {}
    for stanza in Path("/var/lib/dpkg/status").read_text().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " "
        )
        if fields.get("Status", "").endswith(" installed") and "Package" in fields:
            packages[fields["Package"]] = fields["Version"]
    return dict(sorted(packages.items()))


def python_packages() -> dict[str, str]:
    found = {
        dist.metadata["Name"].lower(): dist.version
        for dist in importlib.metadata.distributions(path=[sys.argv[1]])
    }
    return dict(sorted(found.items()))


def main() -> None:
    check_user()
    check_locale()
    check_imports()
    check_computation()
    check_plot()
    check_shared_libraries()
    check_pip()
    check_grading_tools()
    report = {
        "python": sys.version.split()[0],
        "debian_packages": debian_packages(),
        "python_packages": python_packages(),
    }
    json.dump(report, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
