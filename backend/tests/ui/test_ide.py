"""The web IDE in a real browser: accounts, editor, runs, plots, input, stop, refused saves."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.ui.conftest import CSP_VIOLATIONS, PASSWORD, Ide

PLOT_PROGRAM = """\
import numpy as np
import matplotlib.pyplot as plt

x = np.linspace(0, 2 * np.pi, 200)
print("sum of 0..9 =", int(np.arange(10).sum()))
plt.plot(x, np.sin(x), label="sin")
plt.title("A sine wave")
plt.legend()
plt.show()
"""

INPUT_PROGRAM = """\
name = input("Your name? ")
age = int(input("Your age? "))
print(f"Hello {name}, next year you will be {age + 1}.")
"""

ENDLESS_PROGRAM = """\
import itertools, time

for i in itertools.count():
    print("tick", i, flush=True)
    time.sleep(0.2)
"""


def paste(ide: Ide, text: str) -> None:
    """Paste `text` into the focused editor, as the browser's paste event would."""
    ide.page.locator(".cm-content").evaluate(
        """(element, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true });
            element.dispatchEvent(event);
        }""",
        text,
    )


def test_sign_up_create_and_open_a_workspace(anonymous_page: Ide) -> None:
    page = anonymous_page.page
    url = anonymous_page.server.url
    page.goto(f"{url}/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_role("link", name="Create an account").click()
    # The sign-in form has a Username field too: filling before the sign-up
    # page has replaced it would type into the page that is going away.
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Username").fill(anonymous_page.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Your workspaces")).to_be_visible()

    page.get_by_role("textbox", name="New workspace").fill("week-1")
    page.get_by_role("button", name="Create", exact=True).click()
    # Create opens the new workspace; the list has it too.
    expect(page.get_by_role("heading", name="week-1")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/workspace/\?id="))
    page.go_back()
    link = page.get_by_role("link", name="week-1")
    expect(link).to_be_visible()
    page.get_by_role("button", name="Rename week-1").click()
    page.get_by_label("New name for week-1").fill("week-1-numpy")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="week-1-numpy")).to_be_visible()
    anonymous_page.screenshot("workspace-list")

    page.get_by_role("link", name="week-1-numpy").click()
    expect(page.get_by_role("heading", name="week-1-numpy")).to_be_visible()
    expect(page.get_by_text("No files yet.")).to_be_visible()
    expect(page.get_by_test_id("status-bar")).to_contain_text("Storage")


def test_write_a_file_save_it_and_see_it_after_a_reload(ide: Ide) -> None:
    page = ide.page
    ide.open_workspace()
    page.get_by_role("button", name="New file").first.click()
    page.get_by_label("New file name").fill("hello.py")
    page.keyboard.press("Enter")
    editor = page.get_by_role("textbox", name="Editor: hello.py")
    expect(editor).to_be_focused()

    # Bracket closing and completion load on the first keystroke; even that
    # one is closed, and what is typed while they load comes after it.
    page.keyboard.type("(")
    page.keyboard.type("le")
    expect(editor).to_have_text("(le)")
    expect(page.locator(".cm-tooltip-autocomplete")).to_contain_text("len")
    page.keyboard.press("Escape")
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")

    page.keyboard.type("print('saved by the browser')")
    expect(page.get_by_test_id("unsaved-marker")).to_be_visible()
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("unsaved-marker")).to_have_count(0)
    expect(page.get_by_test_id("status-bar")).to_contain_text("Saved")
    assert ide.read_file("hello.py") == "print('saved by the browser')"

    page.reload()
    editor = page.get_by_role("textbox", name="Editor: hello.py")
    expect(editor).to_contain_text("print('saved by the browser')")
    expect(page.get_by_role("tab", name="hello.py")).to_have_attribute("aria-selected", "true")
    expect(editor).to_be_focused()

    # Search and replace (its code loads on first use).
    page.keyboard.press("Control+f")
    search = page.get_by_role("textbox", name="Find")
    expect(search).to_be_focused()
    search.fill("browser")
    page.get_by_role("textbox", name="Replace").fill("IDE")
    page.get_by_role("button", name="replace all").click()
    expect(editor).to_contain_text("print('saved by the IDE')")
    ide.screenshot("editor")


def test_run_numpy_and_matplotlib_shows_output_and_plot(ide: Ide) -> None:
    ide.put_file("plot.py", PLOT_PROGRAM)
    ide.open_workspace()
    ide.open_file("plot.py")
    block = ide.run_and_wait("ok")
    expect(block.get_by_test_id("output")).to_contain_text("sum of 0..9 = 45")
    expect(block.get_by_test_id("exit-code")).to_have_text("exit code 0")
    figure = block.get_by_role("img", name=re.compile("Figure 1"))
    expect(figure).to_be_visible()
    ide.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 100", arg=figure.element_handle()
    )
    ide.screenshot("run-with-plot")


def test_input_is_answered_from_the_pre_filled_input(ide: Ide) -> None:
    ide.put_file("ask.py", INPUT_PROGRAM)
    ide.open_workspace()
    ide.open_file("ask.py")
    ide.page.get_by_text("Pre-filled input").click()
    ide.page.get_by_label(re.compile("Input for")).fill("Ada\n36\n")
    block = ide.run_and_wait("ok")
    expect(block.get_by_test_id("output")).to_contain_text("Hello Ada, next year you will be 37.")


def test_stop_an_endless_run(ide: Ide) -> None:
    ide.put_file("forever.py", ENDLESS_PROGRAM)
    ide.open_workspace()
    expect(ide.open_file("forever.py")).to_be_focused()
    # Ctrl+Enter in the editor runs the file, like the button.
    ide.page.keyboard.press("Control+Enter")
    block = ide.page.get_by_test_id("run").last
    expect(block).to_have_attribute("data-status", "running")
    stop = block.get_by_role("button", name="Stop")
    expect(stop).to_be_visible()
    ide.page.wait_for_timeout(800)
    stop.click()
    expect(block).to_have_attribute("data-status", "killed", timeout=15_000)
    expect(block).to_contain_text("Stopped")


def test_a_refused_save_shows_the_servers_reason(ide: Ide) -> None:
    page = ide.page
    ide.put_file("big.txt", "small\n")
    ide.open_workspace()
    ide.open_file("big.txt").click()
    page.keyboard.press("Control+End")
    paste(ide, "x" * (1024 * 1024 + 100))
    page.keyboard.press("Control+s")
    error = page.get_by_test_id("save-error")
    expect(error).to_contain_text("Could not save big.txt")
    expect(error).to_contain_text("1 MiB")
    expect(page.get_by_test_id("unsaved-marker")).to_be_visible()
    ide.screenshot("refused-save")
    assert ide.read_file("big.txt") == "small\n"

    # Not text: a NUL character is refused too, with its own reason.
    ide.put_file("nul.txt", "text\n")
    ide.open_file("nul.txt").click()
    paste(ide, "before\u0000after")
    page.keyboard.press("Control+s")
    error = page.get_by_test_id("save-error")
    expect(error).to_contain_text("Could not save nul.txt")
    expect(error).not_to_contain_text("HTTP")

    # Unsaved edits: leaving the page asks first.
    with page.expect_event("dialog") as leaving:
        page.close(run_before_unload=True)
    assert leaving.value.type == "beforeunload"
    leaving.value.dismiss()


def test_a_run_ended_by_a_limit_says_which(ide: Ide) -> None:
    ide.put_file("slow.py", "import time\n\ntime.sleep(30)\n")
    finished = ide.api(
        "POST",
        f"/api/workspaces/{ide.workspace_id}/runs?wait=true",
        data={"path": "slow.py", "timeout_s": 1},
    )
    assert finished["status"] == "timeout", finished["message"]
    ide.open_workspace()
    # The console shows the workspace's past runs, this one with its limit.
    block = ide.page.get_by_test_id("run").last
    expect(block).to_have_attribute("data-status", "timeout")
    expect(block.get_by_test_id("run-limit")).to_contain_text("time limit")


def test_the_page_refuses_an_inline_script_and_the_watch_sees_it(ide: Ide) -> None:
    # The control for every other UI test's "no CSP violation": a script the
    # policy does not list by hash is refused, and the watch reports it.
    # (DevTools' own evaluation, like this one, is exempt from the policy.)
    ide.open_workspace()
    injected = ide.page.evaluate(
        """() => {
            const element = document.createElement("script");
            element.textContent = "window.injected = true";
            document.body.append(element);
            return window.injected === true;
        }"""
    )
    assert injected is False

    def reported() -> tuple[bool, bool]:
        """Seen by the page's event listener; reported by Chromium itself."""
        return (
            any(v.startswith("CSP violation: script-src") for v in CSP_VIOLATIONS),
            any("Executing inline script violates" in v for v in CSP_VIOLATIONS),
        )

    deadline = time.monotonic() + 10
    while reported() != (True, True) and time.monotonic() < deadline:
        ide.page.evaluate("1")  # a round trip delivers the console events sent so far
    assert reported() == (True, True), CSP_VIOLATIONS
    CSP_VIOLATIONS.clear()
