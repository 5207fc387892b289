"""The language servers' sandbox counts against the host's memory budget, on both backends.

A server with room for about one language-server sandbox: while one holds
its memory, another user's editor is refused language servers (closed
1013, try again later, saying why) but keeps working, and a user's own sandbox is refused
too; once the first closes, the second is admitted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import User
from tests.lsp.client import LspClient
from tests.servers import SandpitServer
from tests.terminals.test_api import make_admin

FULL = "The server is full: every sandbox it has room for is in use. Try again in 10 seconds."


@pytest.fixture(scope="module", params=["bubblewrap", "docker"])
def server(request: pytest.FixtureRequest) -> Iterator[SandpitServer]:
    # A start is counted at 200 MiB until measured: one fits in 256, then
    # the servers' ~130 MiB plus another start's 200 do not.
    instance = SandpitServer(
        sandbox_backend=request.param, sandboxes_memory_mb="256", sandbox_start_reserve_mb="200"
    )
    instance.start()
    yield instance
    instance.close()


def until(predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_a_full_host_refuses_language_servers_and_the_editor_goes_on(
    server: SandpitServer, make_user: Callable[[SandpitServer], User]
) -> None:
    holder, bystander = make_user(server), make_user(server)
    make_admin(server, bystander)

    def in_use() -> int:
        answer = bystander.client.get("/api/admin/admission")
        assert answer.status_code == 200, answer.text
        return int(answer.json()["memory_in_use_bytes"])

    with LspClient(server, holder.token, holder.workspace()) as first:
        first.initialize()
        uri = first.open("main.py", "import numpy as np\nimport pandas as pd\nnp.ar")
        assert "arange" in first.completion_labels(uri, 2, 5)
        until(lambda: in_use() > 60 * 2**20, "the language servers' memory to be counted")
        workspace = bystander.workspace()
        refused = LspClient(server, bystander.token, workspace).read_close()
        assert (refused.code, refused.reason) == (1013, FULL)
        # The editor works on without language features: files save; and the
        # language servers' memory counts against users' sandboxes too.
        saved = bystander.client.put(
            f"/api/workspaces/{workspace}/files/main.py", content="x = 1\n"
        )
        assert saved.status_code in (200, 201), saved.text
        terminal = bystander.client.post(f"/api/workspaces/{workspace}/terminals", json={})
        assert terminal.status_code == 503, terminal.text
    until(lambda: in_use() < 60 * 2**20, "the first language servers' memory to be freed")
    with LspClient(server, bystander.token, workspace) as admitted:
        assert "completionProvider" in admitted.initialize()["capabilities"]
