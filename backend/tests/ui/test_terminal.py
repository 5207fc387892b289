"""The terminal panel in a real browser: echo, the Python REPL, scrollback after a reload, files.

Skipped (by the `terminal_ide` fixture) while the server answers 404/405 to
`POST /api/workspaces/{id}/terminals`, i.e. before the terminal backend lands.
"""

from __future__ import annotations

import re

from playwright.sync_api import WebSocketRoute, expect

from tests.ui.conftest import Ide

PROMPT = r"\$\s*$"


def open_terminal(ide: Ide) -> None:
    """Open the workspace; its first terminal starts by itself. Focus it at the prompt."""
    ide.open_workspace()
    expect(ide.page.get_by_test_id("terminal-status")).to_have_text("Connected", timeout=20_000)
    ide.wait_for_terminal(PROMPT)
    ide.page.locator(".terminal-surface:not(.hidden) .xterm-screen").click()


def type_line(ide: Ide, text: str) -> None:
    ide.page.keyboard.type(text)
    ide.page.keyboard.press("Enter")


def test_typing_in_the_terminal_echoes(terminal_ide: Ide) -> None:
    open_terminal(terminal_ide)
    type_line(terminal_ide, 'echo "six times seven is $((6 * 7))"')
    terminal_ide.wait_for_terminal(r"six times seven is 42")
    terminal_ide.screenshot("terminal")


def test_python_repl_in_the_terminal(terminal_ide: Ide) -> None:
    open_terminal(terminal_ide)
    type_line(terminal_ide, "python3")
    terminal_ide.wait_for_terminal(r">>>\s*$")
    type_line(terminal_ide, "print(sum(range(10)), 'from the REPL')")
    terminal_ide.wait_for_terminal(r"45 from the REPL")
    terminal_ide.screenshot("terminal-python-repl")
    type_line(terminal_ide, "exit()")
    terminal_ide.wait_for_terminal(PROMPT)


def test_scrollback_comes_back_after_a_reload(terminal_ide: Ide) -> None:
    open_terminal(terminal_ide)
    type_line(terminal_ide, "echo marker-$((1000 + 234))")
    terminal_ide.wait_for_terminal(r"marker-1234\s")
    tabs = terminal_ide.page.get_by_role("tab", name=re.compile(r"^Terminal \d"))
    expect(tabs).to_have_count(1)

    terminal_ide.page.reload()
    # The same terminal, reattached: its recent output is replayed.
    expect(terminal_ide.page.get_by_test_id("terminal-status")).to_have_text("Connected")
    expect(tabs).to_have_count(1)
    text = terminal_ide.wait_for_terminal(r"marker-1234\s")
    assert "echo marker-$((1000 + 234))" in text


def test_a_file_made_in_the_terminal_appears_in_the_tree(terminal_ide: Ide) -> None:
    open_terminal(terminal_ide)
    type_line(terminal_ide, "mkdir -p results && echo 'made by bash' > results/from_terminal.txt")
    expect(terminal_ide.tree_item("results")).to_be_visible(timeout=10_000)
    terminal_ide.tree_item("results").click()
    expect(terminal_ide.tree_item("results/from_terminal.txt")).to_be_visible()
    editor = terminal_ide.open_file("results/from_terminal.txt")
    expect(editor).to_contain_text("made by bash")


def test_the_terminal_reconnects_after_a_dropped_connection(terminal_ide: Ide) -> None:
    page = terminal_ide.page
    sockets: list[WebSocketRoute] = []

    def through(route: WebSocketRoute) -> None:
        route.connect_to_server()
        sockets.append(route)

    page.route_web_socket(re.compile(r"/terminals/[^/]+/ws$"), through)
    open_terminal(terminal_ide)
    type_line(terminal_ide, "echo before-the-drop")
    terminal_ide.wait_for_terminal(r"before-the-drop\s")

    sockets[-1].close(code=1011, reason="network drop")
    status = page.get_by_test_id("terminal-status")
    expect(status).to_contain_text("Reconnecting")
    expect(status).to_have_text("Connected", timeout=15_000)
    assert len(sockets) == 2
    # The replay brings the screen back, and typing works again.
    terminal_ide.wait_for_terminal(r"before-the-drop\s")
    page.locator(".terminal-surface:not(.hidden) .xterm-screen").click()
    type_line(terminal_ide, "echo after-the-drop")
    terminal_ide.wait_for_terminal(r"after-the-drop\s")
