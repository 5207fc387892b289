"""Issue 16's items 3 and 4 in a real browser: tracebacks and `x.py:N:M` that open
the file at the line (run console and terminal), the failing line marked,
plots where `plt.show()` was called, and the IDE's rough edges (focus for
`input()`, the timeout sentence, what survives a reload, lifetime warnings,
Stop's confirmation, signing in through a deep link, Create).

Lean: one server for the module (conftest), few sandboxes (each test that
runs code runs all of it in one workspace, with the terminal panel closed
unless the test is about the terminal).
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, expect

from tests.servers import SandpitServer
from tests.ui.conftest import PASSWORD, Ide, new_context, signed_in

HELPER = """\
def divide(a, b):
    total = a
    return total / b
"""

# A long line in the failing statement: the ^^^ markers must stay under it.
MAIN = (
    "from helper import divide\n"
    "\n"
    "print('helper.py:2:5: a place in the output')\n"
    "result = divide(1, 0) + divide(2, 1) + divide(3, 1) + divide(4, 1) + divide(5, 1)"
    " + divide(6, 1) + divide(7, 1) + divide(8, 1) + divide(9, 1)\n"
)

PLOT = """\
import matplotlib.pyplot as plt

print("before the plot")
plt.plot([1, 3, 2])
plt.show()
print("after the plot")
"""


def no_terminal(ide: Ide, **state: Any) -> None:
    """The workspace opens with its terminal panel closed (no terminal, no sandbox until a run)."""
    ide.api(
        "PATCH",
        f"/api/workspaces/{ide.workspace_id}",
        data={"ui_state": {"layout": {"terminalOpen": False}, **state}},
    )


def run_file(ide: Ide, path: str, status: str) -> Locator:
    """Open `path`, press Ctrl+Enter in the editor; answers the run's block once it
    ended with `status`."""
    editor = ide.open_file(path)
    before = ide.page.get_by_test_id("run").count()
    editor.press("Control+Enter")
    block = ide.page.get_by_test_id("run").nth(before)
    expect(block).to_have_attribute("data-status", status, timeout=60_000)
    return block


def line_text(page: Page, css: str) -> str:
    return page.locator(f".cm-content {css}").inner_text()


def test_traceback_links_open_the_file_at_the_line(ide: Ide) -> None:
    page = ide.page
    ide.put_file("helper.py", HELPER)
    ide.put_file("main.py", MAIN)
    no_terminal(ide)
    ide.open_workspace()
    block = run_file(ide, "main.py", "error")
    output = block.get_by_test_id("output")
    expect(output).to_contain_text("ZeroDivisionError")

    # The traceback does not wrap: its lines are as long as Python wrote them, the output scrolls.
    stderr = output.locator('[data-stream="stderr"]')
    assert stderr.evaluate("span => getComputedStyle(span).whiteSpace") == "pre"
    assert output.evaluate("pre => pre.scrollWidth > pre.clientWidth + 100")
    ide.screenshot("traceback-no-wrap")

    # The frame in helper.py opens it at line 3, highlighted; the failing line is marked too.
    output.get_by_role("link", name='File "/app/helper.py", line 3').click()
    expect(page.get_by_role("tab", name="helper.py")).to_have_attribute("aria-selected", "true")
    editor = page.get_by_role("textbox", name="Editor: helper.py")
    expect(editor).to_be_focused()
    expect(page.locator(".cm-target-line")).to_have_text("    return total / b")
    expect(page.locator(".cm-activeLine")).to_have_text("    return total / b")
    expect(page.locator(".cm-error-line")).to_have_text("    return total / b")
    ide.screenshot("traceback-link-opened")

    # path:line:column in the output: the cursor goes to that column.
    output.get_by_role("link", name="helper.py:2:5").click()
    expect(page.locator(".cm-target-line")).to_have_text("    total = a")
    page.keyboard.type("#")
    expect(page.locator(".cm-activeLine")).to_have_text("    #total = a")
    # Edited: the marks go (they may no longer be the right lines).
    expect(page.locator(".cm-error-line")).to_have_count(0)
    expect(page.locator(".cm-target-line")).to_have_count(0)

    # Only places in workspace files are links.
    expect(output.get_by_role("link")).to_have_text(
        ["helper.py:2:5", 'File "/app/main.py", line 4', 'File "/app/helper.py", line 3']
    )


def test_plots_in_place_clear_cursor_and_tabs_survive_a_reload(ide: Ide) -> None:
    page = ide.page
    # More tabs than fit: the active one, the last, must be scrolled into sight.
    names = [f"a_rather_long_module_name_{index:02}.py" for index in range(14)]
    for name in names:
        ide.put_file(name, "x = 1\n")
    ide.put_file("plot.py", PLOT)
    no_terminal(ide, tabs=[*names, "plot.py"], active="plot.py")
    ide.open_workspace()
    tab = page.get_by_role("tab", name="plot.py")
    expect(tab).to_be_in_viewport()
    assert tab.evaluate(
        """tab => {
          const list = tab.closest('[role="tablist"]').getBoundingClientRect();
          const box = tab.getBoundingClientRect();
          return box.left >= list.left - 1 && box.right <= list.right + 1;
        }"""
    )

    block = run_file(ide, "plot.py", "ok")
    output = block.get_by_test_id("output")

    def check_order(output: Locator) -> None:
        # Text, the plot, text: where plt.show() was called, not after all the text.
        order = output.evaluate(
            """pre => [...pre.children].map(child =>
                 child.dataset.testid === 'figure' ? 'figure' : child.textContent.trim())"""
        )
        assert order == ["before the plot", "figure", "after the plot"], order

    expect(output.get_by_role("img", name="Figure 1 from plot.py")).to_be_visible(timeout=30_000)
    check_order(output)
    download = output.get_by_role("link", name="Download figure 1")
    assert download.get_attribute("download") == "figure-1.png"
    output.get_by_role("button", name="Enlarge figure 1").click()
    dialog = page.get_by_role("dialog", name="Figure 1 from plot.py")
    expect(dialog).to_be_visible()
    page.wait_for_function(
        "image => image.complete && image.naturalWidth > 100",
        arg=dialog.get_by_role("img").element_handle(),
    )
    expect(dialog.get_by_role("link", name="Download PNG")).to_have_attribute(
        "download", "figure-1.png"
    )
    ide.screenshot("plot-enlarged")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # The cursor on line 4, column 3.
    editor = page.get_by_role("textbox", name="Editor: plot.py")
    editor.click()
    page.keyboard.press("Control+Home")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # A second run, so "Clear" below has something to clear and the console something to scroll.
    before = page.get_by_test_id("run").count()
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("run").nth(before)).to_have_attribute(
        "data-status", "ok", timeout=60_000
    )

    page.reload()
    # Restored: the cursor where it was, the plot between its texts, the console at the newest run.
    expect(page.locator(".cm-activeLine")).to_have_text("plt.plot([1, 3, 2])")
    assert page.evaluate("getSelection().focusOffset") == 2
    runs = page.get_by_test_id("run")
    expect(runs).to_have_count(2)
    newest = runs.last
    expect(newest.get_by_role("img", name="Figure 1 from plot.py")).to_be_visible()
    check_order(newest.get_by_test_id("output"))
    expect(newest.get_by_role("img")).to_be_in_viewport()
    log = page.get_by_role("log", name="Runs")
    page.wait_for_function(
        "log => log.scrollHeight - log.scrollTop - log.clientHeight < 40", arg=log.element_handle()
    )

    page.get_by_role("button", name="Clear").click()
    expect(runs).to_have_count(0)
    page.reload()
    expect(page.get_by_role("textbox", name="Editor: plot.py")).to_be_visible()
    # Cleared stays cleared (the runs are still on the server; they are not shown).
    expect(log).to_contain_text("to run the open Python file")
    expect(runs).to_have_count(0)
    assert len(ide.api("GET", f"/api/workspaces/{ide.workspace_id}/runs")) == 2


def test_input_takes_the_focus_and_a_busy_timeout_is_said_once(ide: Ide) -> None:
    page = ide.page
    ide.put_file("ask.py", "name = input('Your name? ')\nprint('Hello', name)\n")
    ide.put_file("busy.py", "while True:\n    pass\n")
    no_terminal(ide, timeLimit=2)
    ide.open_workspace()

    editor = ide.open_file("ask.py")
    editor.press("Control+Enter")
    line = page.get_by_role("textbox", name="Input for the running program")
    # The program asks: its input line takes the focus, so the answer goes there, not into the file.
    expect(line).to_be_focused(timeout=30_000)
    page.keyboard.type("Ada")
    page.keyboard.press("Enter")
    block = page.get_by_test_id("run").last
    expect(block).to_have_attribute("data-status", "ok")
    expect(block.get_by_test_id("output")).to_contain_text("Hello Ada")
    # Ended: the editor has the focus back, and the file is as it was.
    expect(editor).to_be_focused()
    assert ide.read_file("ask.py") == "name = input('Your name? ')\nprint('Hello', name)\n"

    # A run that computes until its limit: timed out, said once, and not "waiting for input".
    block = run_file(ide, "busy.py", "timeout")
    limit = block.get_by_test_id("run-limit")
    expect(limit).to_have_text("The run passed its 2 s time limit and was stopped.")
    assert "waited for input" not in page.locator("main").inner_text()


def test_terminal_links_lifetime_warnings_and_stop_confirmation(
    ui_server: SandpitServer, browser: Browser
) -> None:
    with signed_in(ui_server, browser, "term", dom_terminal=True) as ide:
        page = ide.page
        ide.put_file("helper.py", HELPER)
        # The page's clock runs from now, and can jump ahead to the sandbox's last minutes.
        page.clock.install()
        ide.open_workspace()
        expect(page.get_by_test_id("terminal-status")).to_have_text("Connected", timeout=30_000)
        ide.wait_for_terminal(r"\$\s*$")
        page.locator(".terminal-surface:not(.hidden) .xterm-screen").click()
        # Printed by the shell, not typed: only the output line holds the place.
        page.keyboard.type("printf 'see hel''per.py:%d:1\\n' 3")
        page.keyboard.press("Enter")
        ide.wait_for_terminal(r"see helper\.py:3:1")

        # Hover, then click the place: helper.py opens at line 3.
        box = page.evaluate(
            """() => {
              const rows = document.querySelector('.terminal-surface:not(.hidden) .xterm-rows');
              const walker = document.createTreeWalker(rows, NodeFilter.SHOW_TEXT);
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.textContent.indexOf('helper.py:3:1');
                if (at >= 0 && node.textContent.includes('see')) {
                  const range = document.createRange();
                  range.setStart(node, at);
                  range.setEnd(node, at + 'helper.py:3:1'.length);
                  const rect = range.getBoundingClientRect();
                  return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
                }
              }
              return null;
            }"""
        )
        assert box is not None
        page.mouse.move(box["x"] - 30, box["y"])
        page.mouse.move(box["x"], box["y"])
        expect(page.locator(".terminal-surface:not(.hidden) .xterm-screen")).to_have_class(
            re.compile("xterm-cursor-pointer")
        )
        page.mouse.click(box["x"], box["y"])
        expect(page.get_by_role("tab", name="helper.py")).to_have_attribute("aria-selected", "true")
        expect(page.locator(".cm-target-line")).to_have_text("    return total / b")

        # 30 minutes' lifetime: at 5 and at 1 minute before its end, the IDE and the terminal warn.
        status = page.get_by_test_id("status-bar")
        expect(status).to_contain_text("Ends in")
        expires = ide.api("GET", f"/api/workspaces/{ide.workspace_id}/sandbox")["expires_at"]
        banner = page.get_by_test_id("limit-banner")

        def jump_to(seconds_before_end: float) -> None:
            now_ms = page.evaluate("Date.now()")
            page.clock.fast_forward(int((expires - seconds_before_end) * 1000 - now_ms))

        jump_to(290)
        expect(banner).to_contain_text("lifetime limit in 5 minutes")
        expect(banner).to_contain_text(
            "The next run or terminal starts a new sandbox, with your files kept."
        )
        ide.wait_for_terminal(r"\[Sandpit\] The sandbox reaches its lifetime limit in 5 minutes")
        jump_to(55)
        expect(banner).to_contain_text("lifetime limit in 1 minute")
        ide.wait_for_terminal(r"lifetime limit in 1 minute")
        ide.screenshot("lifetime-warning")

        # A terminal is open: Stop asks first; Cancel keeps the sandbox.
        page.get_by_role("button", name="Stop sandbox").click()
        dialog = page.get_by_role("dialog", name="Stop the sandbox?")
        expect(dialog).to_contain_text("This ends 1 open terminal.")
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_have_count(0)
        assert ide.api("GET", f"/api/workspaces/{ide.workspace_id}/sandbox")["running"] is True
        page.get_by_role("button", name="Stop sandbox").click()
        dialog.get_by_role("button", name="Stop sandbox").click()
        page.clock.run_for(4_000)
        expect(status).to_contain_text("Sandbox not running")


def test_signed_out_pages_log_no_401_and_a_deep_link_signs_in(
    ui_server: SandpitServer, browser: Browser
) -> None:
    context = new_context(browser)
    errors: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    try:
        ide = Ide(ui_server, context)
        page = ide.page
        page.on("console", watch)
        ide.sign_up_by_api()
        ide.create_workspace("deep")
        ide.put_file("main.py", "print('hello')\n")
        assert context.request.post(f"{ui_server.url}/api/auth/logout").status == 204

        # Signed out: the home page and a workspace link go to sign in, nothing
        # refused on the way.
        page.goto(f"{ui_server.url}/")
        expect(page).to_have_url(re.compile(r"/login/"))
        page.goto(f"{ui_server.url}/workspace/?id={ide.workspace_id}")
        expect(page).to_have_url(re.compile(r"/login/\?next="))
        assert not [text for text in errors if "401" in text], errors

        # Signing in there opens the workspace (no "Please sign in first.").
        page.get_by_label("Username").fill(ide.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="deep")).to_be_visible()
        expect(page.get_by_role("tree", name="Workspace files")).to_be_visible()
        expect(page.get_by_text("Please sign in first.")).to_have_count(0)

        # "Create" on the list opens the new workspace.
        page.goto(f"{ui_server.url}/")
        page.get_by_role("textbox", name="New workspace").fill("fresh")
        page.get_by_role("button", name="Create", exact=True).click()
        expect(page.get_by_role("heading", name="fresh")).to_be_visible()
        expect(page.get_by_text("No files yet.")).to_be_visible()
        assert not [text for text in errors if "401" in text], errors
    finally:
        context.close()


def test_shortcuts_dialog_and_theme_switch(ide: Ide) -> None:
    page = ide.page
    no_terminal(ide)
    ide.open_workspace()
    # `?` outside a text field opens it.
    page.get_by_role("button", name="Run", exact=True).focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("rowheader", name="F6 / Shift+F6")).to_be_visible()
    expect(dialog.get_by_role("rowheader", name="Esc, then Tab")).to_be_visible()
    expect(dialog.get_by_role("radio", name="System")).to_be_checked()
    format_on_save = dialog.get_by_role("checkbox", name="Format Python files on save")
    expect(format_on_save).not_to_be_checked()
    format_on_save.check()

    html = page.locator("html")
    background = "getComputedStyle(document.documentElement).backgroundColor"
    light = page.evaluate(background)
    dialog.get_by_role("radio", name="Dark").check()
    expect(html).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) != light
    ide.screenshot("theme-dark")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    # Kept in this browser, applied before the page paints; the editor follows it.
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="Keyboard shortcuts and theme").click()
    expect(format_on_save).to_be_checked()
    dialog.get_by_role("radio", name="Light").check()
    expect(html).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == light
    dialog.get_by_role("radio", name="System").check()
    expect(html).not_to_have_attribute("data-theme", re.compile("."))


def test_narrow_screens_show_one_region_at_a_time(
    ui_server: SandpitServer, browser: Browser
) -> None:
    with signed_in(ui_server, browser, "phone", dom_terminal=True) as ide:
        page = ide.page
        page.set_viewport_size({"width": 390, "height": 844})
        ide.put_file("main.py", "print('hello from a phone')\n")
        page.goto(f"{ui_server.url}/workspace/?id={ide.workspace_id}")
        panels = page.get_by_role("tablist", name="Panels")
        expect(panels).to_be_visible()

        def width(name: str) -> float:
            box = page.locator(f'[data-region="{name}"]').bounding_box()
            assert box is not None, f"{name} is not shown"
            return float(box["width"])

        def only(name: str) -> None:
            expect(panels.get_by_role("tab", selected=True)).to_have_count(1)
            for region in ("tree", "editor", "console", "terminal"):
                locator = page.locator(f'[data-region="{region}"]')
                if region == name:
                    expect(locator).to_be_visible()
                else:
                    expect(locator).to_be_hidden()

        panels.get_by_role("tab", name="Files").click()
        only("tree")
        ide.tree_item("main.py").click()
        # Opening a file shows the editor, as wide as the screen.
        editor = page.get_by_role("textbox", name="Editor: main.py")
        expect(editor).to_be_focused()
        only("editor")
        assert width("editor") >= 380
        editor.press("Control+Enter")
        only("console")
        block = page.get_by_test_id("run").last
        expect(block).to_have_attribute("data-status", "ok", timeout=60_000)
        expect(block.get_by_test_id("output")).to_have_text("hello from a phone\n")
        ide.screenshot("narrow-phone-console")

        panels.get_by_role("tab", name="Terminal").click()
        only("terminal")
        expect(page.get_by_test_id("terminal-status")).to_have_text("Connected", timeout=30_000)
        ide.wait_for_terminal(r"\$\s*$")
        assert width("terminal") >= 380
        ide.screenshot("narrow-phone-terminal")

        # A tablet, upright: the same, wider.
        page.set_viewport_size({"width": 768, "height": 1024})
        only("terminal")
        assert width("terminal") >= 750
        panels.get_by_role("tab", name="Editor").click()
        only("editor")
        assert width("editor") >= 750
        panels.get_by_role("tab", name="Console").click()
        only("console")
        expect(block.get_by_test_id("output")).to_be_visible()
        ide.screenshot("narrow-tablet-console")

        # Wide again: every region side by side, no tabs.
        page.set_viewport_size({"width": 1440, "height": 900})
        expect(panels).to_have_count(0)
        for region in ("tree", "editor", "console", "terminal"):
            expect(page.locator(f'[data-region="{region}"]')).to_be_visible()


def test_the_stopped_banner_says_it_once_and_goes_with_a_new_sandbox(browser: Browser) -> None:
    # Its own server: sandboxes there live 12 s.
    server = SandpitServer(sandbox_lifetime_s="12")
    server.start()
    try:
        with signed_in(server, browser, "short") as ide:
            page = ide.page
            ide.put_file("main.py", "print('hi')\n")
            no_terminal(ide)
            ide.open_workspace()
            run_file(ide, "main.py", "ok")
            banner = page.get_by_test_id("limit-banner").filter(has_text="lifetime")
            expect(banner).to_have_text(
                "The sandbox reached its maximum lifetime and was stopped. "
                "The next run or terminal starts a new sandbox, with your files kept.",
                timeout=40_000,
            )
            # A new run, a new sandbox: the old one's end is no longer news.
            page.get_by_role("textbox", name="Editor: main.py").press("Control+Enter")
            expect(page.get_by_test_id("status-bar")).to_contain_text(
                "Sandbox running", timeout=30_000
            )
            expect(banner).to_have_count(0)
    finally:
        server.close()
