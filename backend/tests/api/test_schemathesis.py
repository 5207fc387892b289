"""Property-based API tests: Schemathesis against a real server, every check enabled.

Schemathesis reads the server's own OpenAPI document and sends what it
generates from it (valid and invalid requests, undeclared methods, missing
credentials), then checks every answer against the document: status codes,
bodies, headers, `Allow`, that valid data is accepted and invalid data
refused. Its stateful phase follows the document's links (a created
workspace's id into its files, runs and terminals; a run's id into its
events, input and stop). The pass must end with zero failures.

It runs twice against one server: signed in as a user for every operation
but the administrators' ones, and signed in as an administrator for those
(`tag: admin`), so every operation is fuzzed with credentials that reach its
logic. Not fuzzed, because it is not in the OpenAPI document: the terminal
WebSocket (`tests/terminals` covers it, with its close codes).

The seed is fixed so a failure replays (`SCHEMATHESIS_SEED` picks another),
and the examples per operation are bounded (`SCHEMATHESIS_EXAMPLES`) to keep
the test pass within its budget. The report (per operation, how many
requests it got) is written to `artifacts/schemathesis/`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandpit.config import REPO_DIR
from tests.servers import SandpitServer

# Two `st run`s, each allowed 900 s (`schemathesis`): above pytest's default 300 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1900)]

SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20261206"))
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
ARTIFACTS = REPO_DIR / "artifacts" / "schemathesis"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def fuzzed_server() -> Iterator[SandpitServer]:
    # The per-user run rate is raised so that generated runs reach the
    # sandbox instead of mostly meeting the (documented) 429; the request
    # rate is the test servers' (tests/servers.py: high, for the same
    # reason); every other limit is the default.
    server = SandpitServer(runs_per_minute="100000")
    server.start()
    yield server
    server.close()


def signed_in(server: SandpitServer, username: str, role: str = "user") -> str:
    """A bearer token of a new account named `username` with `role`."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        credentials = {"username": username, "password": PASSWORD}
        created = client.post("/api/auth/register", json=credentials)
        assert created.status_code == 201, created.text
        if role != "user":
            subprocess.run(
                [sys.executable, "-m", "sandpit", "user", "set-role", username, role],
                env=server.env,
                check=True,
                capture_output=True,
            )
        login = client.post("/api/auth/login", json=credentials)
        assert login.status_code == 200, login.text
        token: str = login.json()["access_token"]
        return token


def schemathesis(server: SandpitServer, token: str, name: str, *selection: str) -> Path:
    """Run `st run` with every check and phase; return the HAR of what it sent."""
    report_dir = ARTIFACTS / name
    har = report_dir / "requests.har"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{server.url}/api/openapi.json",
            "--checks=all",
            f"--max-examples={EXAMPLES}",
            f"--seed={SEED}",
            "--workers=1",
            "--generation-database=none",
            # Our path and name patterns are large character classes (every
            # allowed Unicode category); generating from them is slower than
            # Hypothesis's default health check likes, not wrong.
            "--suppress-health-check=too_slow",
            f"--header=Authorization: Bearer {token}",
            "--report=junit,json,har",
            f"--report-dir={report_dir}",
            f"--report-har-path={har}",
            "--no-color",
            *selection,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    (report_dir / "output.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-30_000:] + result.stderr[-5_000:]
    return har


_PARAMETER = re.compile(r"\\\{(\w+)\\\}")


def _segment(match: re.Match[str]) -> str:
    return ".+" if match.group(1) == "path" else "[^/]+"


def requests_per_operation(har: Path, document: dict[str, object]) -> Counter[str]:
    """How many requests each operation of `document` got, read from a HAR file."""
    paths = document["paths"]
    assert isinstance(paths, dict)
    # Literal paths first; `{path}` (a file's path) may hold slashes.
    templates = [
        (re.compile("^" + _PARAMETER.sub(_segment, re.escape(path)) + "$"), path)
        for path in sorted(paths, key=lambda p: (p.count("{"), -len(p)))
    ]
    counts: Counter[str] = Counter()
    for entry in json.loads(har.read_text())["log"]["entries"]:
        method = entry["request"]["method"]
        path = httpx.URL(entry["request"]["url"]).path
        for pattern, template in templates:
            if pattern.match(path) and method.lower() in paths[template]:
                counts[f"{method} {template}"] += 1
                break
        else:
            counts[f"{method} (not an operation)"] += 1
    return counts


def test_the_api_matches_its_openapi_document(fuzzed_server: SandpitServer) -> None:
    document = httpx.get(f"{fuzzed_server.url}/api/openapi.json").json()
    user = signed_in(fuzzed_server, "fuzzer")
    admin = signed_in(fuzzed_server, "fuzzadmin", role="admin")

    counts = requests_per_operation(
        schemathesis(fuzzed_server, user, "user", "--exclude-tag=admin"), document
    )
    counts += requests_per_operation(
        # No links lead to or from these: there is no stateful phase to run.
        schemathesis(
            fuzzed_server,
            admin,
            "admin",
            "--include-tag=admin",
            "--phases=examples,coverage,fuzzing",
        ),
        document,
    )

    operations = [f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops]
    table = "\n".join(f"{counts[op]:6d}  {op}" for op in sorted(operations))
    others = sum(n for op, n in counts.items() if op not in operations)
    (ARTIFACTS / "requests-per-operation.txt").write_text(
        f"{table}\n{others:6d}  requests to undeclared methods or paths\n"
    )
    # Every operation was reached (none silently left out of the pass).
    assert all(counts[op] > 0 for op in operations), table
