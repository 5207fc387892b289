"""The test process of a submission's checks: run inside the sandbox as
`python3 -I -S /run/sandpit-grader/harness/run.py`, never from /app.

Order is the contract (each step before any of the submission's code runs):
1. `-I -S`: no PYTHONPATH, no user site, no `site` module, so no
   sitecustomize.py, usercustomize.py or .pth file of the submission's runs.
2. Descriptor 3 holds the bundle (JSON: the per-run nonce, each test file's
   source by its path); it is read whole and closed. The tests reach the
   process only this way: they are on no file system in the sandbox.
3. The image's site directories go on sys.path, then pytest and the plugin
   are imported, then /app goes LAST on sys.path (the submission can import
   its own modules but never shadow the standard library, pytest or the harness).
4. pytest runs with the plugin, `--noconftest`, no cache, the rootdir and an
   ini file of the harness's (read-only), on the placeholder paths of the tests.
Results go to descriptor 4 (see sandpit_grader.py); stdout and stderr are
kept for reviewers only.
"""

import json
import os
import site
import sys

HARNESS = os.path.dirname(os.path.abspath(__file__))
GRADER = os.path.dirname(HARNESS)
BUNDLE_FD = 3
RESULTS_FD = 4
SITE_DIRS = ("/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3/dist-packages")


def read_bundle() -> dict[str, object]:
    chunks = []
    while True:
        chunk = os.read(BUNDLE_FD, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(BUNDLE_FD)
    bundle: dict[str, object] = json.loads(b"".join(chunks))
    return bundle


def main() -> int:
    bundle = read_bundle()
    for directory in SITE_DIRS:
        site.addsitedir(directory)
    sys.path.insert(0, HARNESS)
    import pytest  # noqa: PLC0415 - only once the site directories are on the path
    import sandpit_grader  # noqa: PLC0415

    sources = bundle["tests"]
    assert isinstance(sources, dict)
    sandpit_grader.install(str(bundle["nonce"]), RESULTS_FD, sources)
    sys.path.append("/app")
    args = [
        "--noconftest",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:legacypath",
        "-c",
        os.path.join(HARNESS, "pytest.ini"),
        "--rootdir",
        os.path.join(GRADER, "tests"),
        "-q",
        "--tb=short",
        "-W",
        "ignore::pytest.PytestUnknownMarkWarning",
        *sorted(sources),
    ]
    return int(pytest.main(args, plugins=[sandpit_grader]))


if __name__ == "__main__":
    sys.exit(main())
