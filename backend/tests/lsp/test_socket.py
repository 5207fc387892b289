"""The language-server socket against a real server and real sandboxes, on both backends.

One server per backend for the module; each test opens as few sessions as it
can, since every session starts a sandbox with pyrefly and ruff in it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import User
from tests.lsp.client import LspClient, server_pid
from tests.servers import SandpitServer, public_tmp

SOURCE = """import numpy as np
import helpers
import os

a = np.ar
b = helpers.greet("x")
print(undefined_name)
x  =  [1,2]
z = 1 + "a"
"""
HELPERS = '''def greet(name: str) -> str:
    """Say hello."""
    return "Hello " + name
'''


@pytest.fixture(scope="module", params=["bubblewrap", "docker"])
def server(request: pytest.FixtureRequest) -> Iterator[SandpitServer]:
    # Small limits, so the limit tests send little; the other tests stay below them.
    instance = SandpitServer(
        sandbox_backend=request.param,
        lsp_message_burst="60",
        lsp_messages_per_s="20",
        lsp_message_max_bytes="65536",
    )
    instance.start()
    yield instance
    instance.close()


def put(user: User, workspace: str, path: str, text: str) -> None:
    response = user.client.put(f"/api/workspaces/{workspace}/files/{path}", content=text)
    assert response.status_code in (200, 201), response.text


def run(user: User, workspace: str, code: str) -> str:
    """Run `code` in the workspace's own sandbox; its status."""
    response = user.client.post(
        f"/api/workspaces/{workspace}/runs", params={"wait": "true"}, json={"code": code}
    )
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


def test_refusals(server: SandpitServer, user: User, other_user: User) -> None:
    workspace = user.workspace()
    assert LspClient(server, None, workspace).read_close().code == 4401
    assert LspClient(server, "not-a-token", workspace).read_close().code == 4401
    cookie = {"Cookie": f"sandpit_session={user.token}"}
    cross_site = LspClient(server, None, workspace, headers=cookie, origin="https://evil.example")
    assert cross_site.read_close().code == 4403
    foreign = LspClient(server, other_user.token, workspace).read_close()
    assert (foreign.code, foreign.reason) == (4404, "There is no such workspace.")


def test_language_features_limits_and_restart(server: SandpitServer, user: User) -> None:
    workspace = user.workspace()
    put(user, workspace, "helpers.py", HELPERS)
    cookie = {"Cookie": f"sandpit_session={user.token}"}
    with LspClient(server, None, workspace, headers=cookie, origin=server.url) as client:
        capabilities = client.initialize()["capabilities"]
        assert "completionProvider" in capabilities  # pyrefly's
        assert capabilities["documentFormattingProvider"]  # ruff's
        assert "diagnosticProvider" not in capabilities  # both publish instead
        uri = client.open("main.py", SOURCE)
        assert "arange" in client.completion_labels(uri, 4, 9)
        target = client.at("textDocument/definition", uri, 5, 14)
        assert "file:///app/helpers.py" in str(target)
        edits = client.request(
            "textDocument/formatting",
            {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
        )
        assert edits, "ruff format changed nothing"
        assert any("x = [1, 2]" in edit["newText"] for edit in edits)

        # Both servers' diagnostics for the document, merged, each problem
        # once: the undefined name is pyrefly's, the unused import ruff's.
        def sources(diagnostics: list[dict[str, Any]], word: str) -> list[str]:
            return [str(d.get("source")) for d in diagnostics if word in d["message"]]

        found = client.wait_diagnostics(
            uri, lambda ds: sources(ds, "undefined_name") and sources(ds, "`os`")
        )
        assert sources(found, "undefined_name") == ["Pyrefly"], found
        assert sources(found, "`os`") == ["Ruff"], found
        # A type error too (pyrefly's default shows them only with a pyrefly.toml).
        found = client.wait_diagnostics(uri, lambda ds: sources(ds, "Literal['a']"))
        assert sources(found, "Literal['a']") == ["Pyrefly"], found

        # Code actions from both servers in one answer, each fix once:
        # pyrefly's for the undefined name, ruff's for the unused import.
        def actions(line: int, start: int, end: int) -> list[str]:
            span = {
                "start": {"line": line, "character": start},
                "end": {"line": line, "character": end},
            }
            here = [d for d in found if d["range"]["start"]["line"] == line]
            params = {"textDocument": {"uri": uri}, "range": span, "context": {"diagnostics": here}}
            return [a["title"] for a in client.request("textDocument/codeAction", params)]

        assert "Generate variable `undefined_name`" in actions(6, 6, 20)
        for_os = actions(2, 7, 9)
        assert [t for t in for_os if "unused import" in t.lower()] == [
            "Ruff (F401): Remove unused import: `os`"
        ], for_os
        assert not [t for t in for_os if "ignore[unused-import]" in t], for_os
        pid = server_pid(server, "pyrefly")
        os.kill(pid, signal.SIGKILL)
        closed = client.read_close()
        assert closed.code == 1012, closed
    # The editor reconnects and gets fresh servers.
    with LspClient(server, user.token, workspace) as again:
        again.initialize()
        uri = again.open("main.py", SOURCE)
        assert "arange" in again.completion_labels(uri, 4, 9)
        # Over the size limit: closed 1009, nothing passed on.
        again.notify("$/big", {"pad": "x" * 65536})
        closed = again.read_close()
        assert (closed.code, closed.reason) == (1009, "A message was over the size limit.")
    with LspClient(server, user.token, workspace) as flood:
        for _ in range(200):
            flood.notify("$/flood", {})
        closed = flood.read_close()
        assert (closed.code, closed.reason) == (1008, "Too many messages; slow down.")


def test_isolation(server: SandpitServer, user: User) -> None:
    """The servers see only the workspace, read-only, and no network."""
    outside = public_tmp("sandpit-lsp-outside-")
    (outside / "secretmod.py").write_text("SECRET = 1\n")
    outside.chmod(0o755)
    (outside / "secretmod.py").chmod(0o644)
    workspace = user.workspace()
    # A workspace's own configuration points pyrefly outside: it must find nothing there.
    put(user, workspace, "pyrefly.toml", f'search-path = ["lib", "{outside}"]\n')
    put(user, workspace, "lib/libmod.py", "LIB = 1\n")
    # The workspace's own sandbox runs first (its files become its uid's), and
    # keeps writing them while the language servers read them.
    assert run(user, workspace, "open('before.txt', 'w').write('1')") == "ok"
    with LspClient(server, user.token, workspace) as client:
        client.initialize()
        uri = client.open(
            "main.py", "import libmod\nimport secretmod\n\nprint(libmod.LIB, secretmod.SECRET)\n"
        )
        diagnostics = client.wait_diagnostics(
            uri, lambda ds: any("Cannot find module `secretmod`" in d["message"] for d in ds)
        )
        assert not any("libmod" in d["message"] for d in diagnostics), diagnostics
        pid = server_pid(server, "pyrefly")
        proc = Path(f"/proc/{pid}")
        # Its network namespace has loopback only.
        interfaces = [
            line.split(":")[0].strip() for line in (proc / "net/dev").read_text().splitlines()[2:]
        ]
        assert interfaces == ["lo"]
        # /app is mounted read-only; the data directory is not there at all.
        app = [line.split() for line in (proc / "mountinfo").read_text().splitlines()]
        assert any(fields[4] == "/app" and "ro" in fields[5].split(",") for fields in app)
        assert not (proc / "root" / str(server.data_dir).lstrip("/")).exists()
        assert not (proc / "root" / str(outside).lstrip("/") / "secretmod.py").exists()
        assert run(user, workspace, "open('after.txt', 'w').write('2')") == "ok"


def test_a_second_window_takes_the_servers_over(server: SandpitServer, user: User) -> None:
    workspace = user.workspace()
    with LspClient(server, user.token, workspace) as first:
        first.initialize()
        with LspClient(server, user.token, workspace) as second:
            second.initialize()
            closed = first.read_close()
            assert closed.code == 4409, closed
            uri = second.open("main.py", "import numpy as np\nnp.ar")
            assert "arange" in second.completion_labels(uri, 1, 5)
