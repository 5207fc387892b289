"""The run console in a real browser: output as it comes, typing into a running program,
plots while it runs, and polling when the live stream is not available."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Request, Route, expect

from sandpit.config import REPO_DIR
from tests.servers import SandpitServer
from tests.ui.conftest import Ide
from tests.ui.dropping_proxy import DroppingProxy


@pytest.fixture(scope="module")
def ui_server() -> Iterator[SandpitServer]:
    """The UI server with warm interpreters, as production runs them.

    The console shows which way a run started (warm or fresh).
    """
    if not (REPO_DIR / "frontend" / "out" / "index.html").is_file():
        pytest.fail("The web app is not built: `cd frontend && npm run build` (make test does).")
    server = SandpitServer(warm_interpreter="true")
    server.start()
    yield server
    server.close()


# Prints, then waits until the test writes the workspace file `go`: the run
# stays running for as long as the test looks, however slow the machine.
FIRST_WAIT_SECOND = """\
import os
import time

print("first", flush=True)
while not os.path.exists("go"):
    time.sleep(0.02)
print("second")
"""

INPUT_PROGRAM = """\
name = input("Your name? ")
age = int(input("Your age? "))
print(f"Hello {name}, next year you will be {age + 1}.")
"""


def press_run(ide: Ide) -> Locator:
    """Press Run; answers the new run's block (running, or already done)."""
    before = ide.page.get_by_test_id("run").count()
    ide.page.get_by_role("button", name="Run", exact=True).click()
    block = ide.page.get_by_test_id("run").nth(before)
    block.wait_for()
    return block


def run_new_file(ide: Ide, path: str, text: str) -> Locator:
    """Write `path`, open the workspace and the file, press Run; answers the run's block."""
    ide.put_file(path, text)
    ide.open_workspace()
    ide.open_file(path)
    return press_run(ide)


def test_output_shows_while_the_run_runs(ide: Ide) -> None:
    block = run_new_file(ide, "slow.py", FIRST_WAIT_SECOND)
    output = block.get_by_test_id("output")
    expect(output).to_contain_text("first")
    # Shown while the program waits: the run is still running, "second" not there yet.
    expect(block).to_have_attribute("data-status", "running")
    assert "second" not in output.inner_text()
    ide.put_file("go", "")
    expect(output).to_contain_text("second", timeout=20_000)
    expect(block).to_have_attribute("data-status", "ok")
    expect(block.get_by_test_id("exit-code")).to_have_text("exit code 0")
    expect(output).to_have_text("first\nsecond\n")
    # Finished: no input line any more.
    expect(block.get_by_test_id("run-input")).to_have_count(0)


def test_input_is_typed_in_the_run_block(ide: Ide) -> None:
    block = run_new_file(ide, "ask.py", INPUT_PROGRAM)
    output = block.get_by_test_id("output")
    line = block.get_by_role("textbox", name="Input for the running program")
    expect(output).to_contain_text("Your name? ")
    line.click()
    line.fill("Ada")
    line.press("Enter")
    expect(output).to_contain_text("Your name? Ada\nYour age? ")
    expect(line).to_have_value("")
    expect(line).to_be_focused()
    ide.screenshot("run-input")
    line.press_sequentially("36")
    line.press("Enter")
    expect(block).to_have_attribute("data-status", "ok", timeout=20_000)
    expect(output).to_contain_text("Hello Ada, next year you will be 37.")
    # What was typed shows where it was typed, marked as input.
    expect(output.locator('[data-stream="stdin"]').first).to_have_text("Ada\n")
    expect(line).to_have_count(0)
    transcript = "Your name? Ada\nYour age? 36\nHello Ada, next year you will be 37.\n"
    expect(output).to_have_text(transcript)

    # Reloaded, the run comes back from its record just as it was shown.
    ide.page.reload()
    restored = ide.page.get_by_test_id("run").last.get_by_test_id("output")
    expect(restored).to_have_text(transcript)
    expect(restored.locator('[data-stream="stdin"]')).to_have_text(["Ada\n", "36\n"])


def test_ctrl_d_ends_the_input(ide: Ide) -> None:
    block = run_new_file(
        ide, "count.py", "import sys\n\nprint('lines:', len(sys.stdin.read().splitlines()))\n"
    )
    line = block.get_by_role("textbox", name="Input for the running program")
    line.fill("one")
    line.press("Enter")
    expect(block.get_by_test_id("output")).to_contain_text("one")
    line.fill("two")
    line.press("Control+d")
    expect(block).to_have_attribute("data-status", "ok", timeout=20_000)
    expect(block.get_by_test_id("output")).to_contain_text("lines: 2")


def test_a_plot_shows_while_the_run_runs(ide: Ide) -> None:
    block = run_new_file(
        ide,
        "plot.py",
        "import matplotlib.pyplot as plt\n\nplt.plot([1, 3, 2])\nplt.show()\ninput('More? ')\n",
    )
    figure = block.get_by_role("img", name="Figure 1 from plot.py")
    expect(figure).to_be_visible(timeout=30_000)
    expect(block).to_have_attribute("data-status", "running")
    ide.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 100", arg=figure.element_handle()
    )
    block.get_by_role("textbox", name="Input for the running program").press("Enter")
    expect(block).to_have_attribute("data-status", "ok", timeout=20_000)
    expect(figure).to_be_visible()


def test_without_the_live_stream_the_run_is_polled(ide: Ide) -> None:
    # A proxy that refuses server-sent events: the console falls back to polling.
    def refuse(route: Route) -> None:
        route.abort()

    ide.page.route("**/api/runs/*/events", refuse)
    block = run_new_file(ide, "slow.py", FIRST_WAIT_SECOND)
    output = block.get_by_test_id("output")
    # The record of a running run carries its output so far: shown before the end.
    expect(output).to_have_text("first\n", timeout=20_000)
    expect(block).to_have_attribute("data-status", "running")
    ide.put_file("go", "")
    expect(block).to_have_attribute("data-status", "ok", timeout=30_000)
    expect(output).to_have_text("first\nsecond\n")


def test_polled_input_shows_where_it_was_typed(ide: Ide) -> None:
    ide.page.route("**/api/runs/*/events", lambda route: route.abort())
    block = run_new_file(ide, "ask.py", INPUT_PROGRAM)
    output = block.get_by_test_id("output")
    line = block.get_by_role("textbox", name="Input for the running program")
    expect(output).to_have_text("Your name? ", timeout=20_000)
    line.fill("Ada")
    line.press("Enter")
    expect(output).to_have_text("Your name? Ada\nYour age? ", timeout=20_000)
    line.fill("36")
    line.press("Enter")
    expect(block).to_have_attribute("data-status", "ok", timeout=20_000)
    expect(output).to_have_text(
        "Your name? Ada\nYour age? 36\nHello Ada, next year you will be 37.\n"
    )


ASK_TWICE = """\
print("first")
input("go? ")
print("second")
input("end? ")
"""


def test_a_dropped_stream_resumes_where_it_was_without_repeating(ide: Ide) -> None:
    followed: list[Request] = []

    def record(request: Request) -> None:
        if request.url.endswith("/events"):
            followed.append(request)

    ide.page.on("request", record)
    proxy = DroppingProxy(("127.0.0.1", ide.server.port))
    try:
        ide.put_file("ask.py", ASK_TWICE)
        ide.open_workspace(proxy.url)
        ide.open_file("ask.py")
        block = press_run(ide)
        output = block.get_by_test_id("output")
        expect(output).to_have_text("first\ngo? ", timeout=20_000)
        run_id = followed[0].url.split("/")[-2]

        # The network drops; meanwhile the program goes on (answered from elsewhere).
        proxy.drop()
        sent = ide.context.request.post(
            f"{ide.server.url}/api/runs/{run_id}/stdin", data={"text": "x\n"}
        )
        assert sent.status == 204, sent.text()

        # The browser reconnects with Last-Event-ID and gets only what it missed.
        expect(output).to_have_text("first\ngo? x\nsecond\nend? ", timeout=20_000)
        expect(block).to_have_attribute("data-status", "running")
        assert len(followed) == 2, followed
        assert "last-event-id" not in followed[0].all_headers()
        assert followed[1].all_headers()["last-event-id"] == str(len("first\ngo? "))
        block.get_by_role("textbox", name="Input for the running program").press("Enter")
        expect(block).to_have_attribute("data-status", "ok", timeout=20_000)
        expect(output).to_have_text("first\ngo? x\nsecond\nend? \n")
    finally:
        proxy.close()


def test_the_run_header_says_whether_python_started_warm_or_fresh(ide: Ide) -> None:
    # The first run of a sandbox is fresh and starts the warm interpreter once
    # it ends; once that has imported the preload set, a plain program runs warm.
    block = run_new_file(ide, "plain.py", 'print("hi")\n')
    label = block.get_by_test_id("run-interpreter")
    expect(block).to_have_attribute("data-status", "ok", timeout=30_000)
    expect(label).to_have_text("fresh")
    deadline = time.monotonic() + 180  # the preload set's imports, on a busy machine
    while label.inner_text() != "warm":
        assert time.monotonic() < deadline, "no run was forked warm within 180 s"
        # One run a second at most: the user's runs-per-minute limit is 60.
        ide.page.wait_for_timeout(1000)
        block = press_run(ide)
        label = block.get_by_test_id("run-interpreter")
        expect(block).to_have_attribute("data-status", "ok", timeout=30_000)
    expect(label).to_have_attribute("title", "forked from the warm interpreter")

    # A numpy.py in the workspace would shadow the warm interpreter's numpy: fresh, and why.
    ide.put_file("numpy.py", "raise SystemExit('the workspace numpy')\n")
    block = press_run(ide)
    label = block.get_by_test_id("run-interpreter")
    expect(block).to_have_attribute("data-status", "ok", timeout=30_000)
    expect(label).to_have_text("fresh")
    expect(label).to_have_attribute("title", re.compile(r"numpy\.py shadows a module"))
