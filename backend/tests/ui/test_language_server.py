"""The editor's language features in Chromium, served by the real language servers.

Each test is one workspace, so one language-server session (pyrefly and
ruff in their sandbox). The editor loads them when the user first works in
a Python file (here: a click in it); it is usable before they are ready,
and the problems count under the editor appears once they are.
"""

from __future__ import annotations

import json
import os
import signal
import time

from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.lsp.client import server_pid
from tests.ui.conftest import Ide

MAIN = """import numpy as np
import pandas as pd
import helpers

df = pd.read_csv("data.csv")
"""
HELPERS = '''def greet(name: str) -> str:
    """Say hello to `name`."""
    return "Hello " + name
'''
# Language-server answers wait on a cold server in a busy machine.
SERVER_MS = 60_000


def open_with_server(ide: Ide, path: str) -> Locator:
    """Open `path` and wait until the language server is attached to the editor."""
    ide.put_file("helpers.py", HELPERS)
    ide.put_file("data.csv", "a,b\n1,2\n")
    ide.put_file("main.py", MAIN)
    ide.open_workspace()
    editor = ide.open_file(path)
    expect(ide.page.get_by_test_id("problems-count")).to_have_count(0)
    editor.click()
    expect(ide.page.get_by_test_id("problems-count")).to_be_visible(timeout=SERVER_MS)
    return editor


def type_lines(ide: Ide, text: str) -> None:
    """Type `text`; each newline after Escape, so it never accepts a completion instead."""
    for index, line in enumerate(text.split("\n")):
        if index:
            ide.page.keyboard.press("Escape")
            ide.page.keyboard.press("Enter")
        ide.page.keyboard.type(line)


def type_at_end(ide: Ide, text: str) -> None:
    ide.page.keyboard.press("Escape")
    ide.page.keyboard.press("Control+End")
    type_lines(ide, text)


class LspProxy:
    """Passes the page's language-server socket through, holding back the
    server's answers to formatting requests while `hold` is set (a server
    too slow for format on save); `release()` sends the held ones on."""

    def __init__(self, page: Page) -> None:
        self.hold = False
        self.formatting: set[object] = set()
        self.held: list[str | bytes] = []
        self.page: WebSocketRoute | None = None
        page.route_web_socket("**/lsp", self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()
        self.page = socket

        def from_page(message: str | bytes) -> None:
            request = json.loads(message)
            if self.hold and request.get("method") == "textDocument/formatting":
                self.formatting.add(request["id"])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            if json.loads(message).get("id") in self.formatting:
                self.held.append(message)
            else:
                socket.send(message)

        socket.on_message(from_page)
        server.on_message(from_server)

    def release(self) -> None:
        assert self.page is not None
        for message in self.held:
            self.page.send(message)
        self.held.clear()


def wait_for_file(ide: Ide, path: str, text: str) -> None:
    """Poll the server's copy of `path` until it holds `text` (the page keeps running meanwhile)."""
    deadline = time.monotonic() + 30
    while text not in ide.read_file(path):
        assert time.monotonic() < deadline, f"{path} never held {text!r}: {ide.read_file(path)!r}"
        ide.page.wait_for_timeout(100)


def wait_for_sent(ide: Ide, sent: list[object], method: str, uri: str) -> None:
    """Poll the page's messages to the language server until one is `method` for `uri`."""

    def found() -> bool:
        for raw in sent:
            message = json.loads(raw)  # type: ignore[arg-type]
            document = (message.get("params") or {}).get("textDocument") or {}
            if message.get("method") == method and document.get("uri") == uri:
                return True
        return False

    deadline = time.monotonic() + 30
    while not found():
        assert time.monotonic() < deadline, f"the page never sent {method} for {uri}"
        ide.page.wait_for_timeout(100)


def test_completion_and_hover(ide: Ide) -> None:
    page = ide.page
    sent: list[object] = []

    # A function of its own: Playwright cannot take a bound builtin as a handler.
    def record(frame: str | bytes) -> None:
        sent.append(frame)

    page.on("websocket", lambda socket: socket.on("framesent", record))
    editor = open_with_server(ide, "main.py")
    editor.click()
    type_at_end(ide, "a = np.ar")
    completions = page.locator(".cm-tooltip-autocomplete")
    expect(completions).to_contain_text("arange", timeout=SERVER_MS)
    page.keyboard.press("Escape")
    type_at_end(ide, '\nb = df["a"].me')
    expect(completions).to_contain_text("mean", timeout=SERVER_MS)
    page.keyboard.press("Escape")
    # Hover documentation on pd.read_csv: pandas' docstring.
    page.locator(".cm-line", has_text="pd.read_csv").get_by_text("read_csv").hover()
    expect(page.locator(".cm-tooltip-hover")).to_contain_text("delimiter", timeout=SERVER_MS)
    ide.screenshot("lsp-hover")

    # The server crashes: the editor goes on without language features, reconnects
    # by itself, re-sends the document, and completes again.
    os.kill(server_pid(ide.server, "pyrefly"), signal.SIGKILL)
    expect(page.get_by_test_id("problems-count")).to_have_count(0, timeout=SERVER_MS)
    editor.click()
    type_at_end(ide, "\nc = 1")
    expect(editor).to_contain_text("c = 1")
    expect(page.get_by_test_id("problems-count")).to_be_visible(timeout=SERVER_MS)
    type_at_end(ide, "\nd = np.lin")
    expect(completions).to_contain_text("linspace", timeout=SERVER_MS)
    page.keyboard.press("Escape")

    # A renamed file follows in the servers: closed under its old name and
    # opened under the new one, where its diagnostics then come from.
    ide.tree_item("main.py").focus()
    page.keyboard.press("F2")
    page.get_by_label("Rename main.py").fill("analysis.py")
    page.keyboard.press("Enter")
    renamed = page.get_by_role("textbox", name="Editor: analysis.py")
    expect(renamed).to_be_visible()
    wait_for_sent(ide, sent, "textDocument/didClose", "file:///app/main.py")
    wait_for_sent(ide, sent, "textDocument/didOpen", "file:///app/analysis.py")
    renamed.click()
    type_at_end(ide, "\nprint(not_defined_yet)")
    squiggle = page.locator(".cm-lintRange-error", has_text="not_defined_yet")
    expect(squiggle.first).to_be_visible(timeout=SERVER_MS)


def test_diagnostics_definition_and_format(ide: Ide) -> None:
    page = ide.page
    proxy = LspProxy(page)
    editor = open_with_server(ide, "main.py")
    editor.click()
    type_at_end(ide, "print(undefined_name)")
    squiggle = page.locator(".cm-lintRange-error", has_text="undefined_name")
    expect(squiggle.first).to_be_visible(timeout=SERVER_MS)
    expect(page.get_by_test_id("problems-count")).not_to_have_text("0 problems")
    squiggle.first.hover()
    expect(page.locator(".cm-tooltip-lint")).to_contain_text("undefined_name")
    # Reported once (pyrefly owns undefined names; ruff's F821 is dropped).
    expect(page.locator(".cm-tooltip-lint .cm-diagnostic")).to_have_count(1)
    ide.screenshot("lsp-diagnostic")
    # The fix, pyrefly's quick fix from the problem's tooltip: the squiggle goes.
    fix = page.locator(".cm-tooltip-lint").get_by_role(
        "button", name="Generate variable `undefined_name`"
    )
    deadline = time.monotonic() + 30
    while fix.count() == 0:  # asked for after the problem is shown: hover again
        assert time.monotonic() < deadline, "pyrefly's quick fix was never offered"
        page.mouse.move(0, 0)
        squiggle.first.hover()
        page.wait_for_timeout(200)
    fix.click()
    expect(editor).to_contain_text("undefined_name = None")
    expect(squiggle).to_have_count(0, timeout=SERVER_MS)

    # Format document (ruff format).
    type_at_end(ide, "\nx  =  [1,2]")
    page.keyboard.press("Shift+Alt+f")
    expect(editor).to_contain_text("x = [1, 2]", timeout=SERVER_MS)

    # Format on save, chosen in the shortcuts dialog: Ctrl+S saves the file formatted.
    page.get_by_role("button", name="Keyboard shortcuts and theme").click()
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    dialog.get_by_role("checkbox", name="Format Python files on save").check()
    dialog.get_by_role("button", name="Close").click()
    editor.click()
    type_at_end(ide, "\ny  =  (1,2)")
    page.keyboard.press("Control+s")
    expect(editor).to_contain_text("y = (1, 2)", timeout=SERVER_MS)
    wait_for_file(ide, "main.py", "y = (1, 2)")
    # A server too slow to answer: the file is saved as typed, and the late
    # answer changes nothing.
    proxy.hold = True
    type_at_end(ide, "\nz  =  3")
    page.keyboard.press("Control+s")
    wait_for_file(ide, "main.py", "z  =  3")
    expect(page.get_by_test_id("status-bar")).to_contain_text("Saved")
    assert proxy.formatting, "the save did not ask the server to format"
    proxy.hold = False
    proxy.release()
    # A completion answered after the late answer: by then the page has had it.
    type_at_end(ide, "\nnp.ar")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("arange", timeout=SERVER_MS)
    page.keyboard.press("Escape")
    expect(editor).to_contain_text("z  =  3")

    # Go to definition into another file.
    type_at_end(ide, '\nhelpers.greet("x")')
    page.keyboard.press("ArrowLeft")
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    page.keyboard.press("F12")
    expect(page.get_by_role("tab", name="helpers.py")).to_have_attribute(
        "aria-selected", "true", timeout=SERVER_MS
    )
    expect(page.get_by_role("textbox", name="Editor: helpers.py")).to_be_visible()
