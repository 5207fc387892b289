"""Accessibility: axe-core (the engine behind Lighthouse's audit) over each main view.

Every page must have no violation axe rates serious or critical against
WCAG 2.1 A and AA: names for every control, contrast in both themes,
landmarks, no keyboard traps axe can see. axe-core is a dev dependency of
the frontend (`frontend/node_modules/axe-core`), evaluated in the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from sandpit.config import REPO_DIR
from tests.servers import SandpitServer
from tests.ui.conftest import Ide, signed_in

AXE = REPO_DIR / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def violations(page: Page) -> list[str]:
    """Serious and critical violations on the page as it is, one line each."""
    # Evaluated through DevTools, not as a <script> tag, which the page's
    # Content-Security-Policy (rightly) refuses.
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        """() => axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            resultTypes: ["violations"],
        })"""
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [node["html"][:200] for node in violation["nodes"][:5]]
            found.append(f"{violation['id']}: {violation['help']} ({'; '.join(targets)})")
    return found


@pytest.fixture(params=["light", "dark"])
def themed_ide(
    request: pytest.FixtureRequest, ui_server: SandpitServer, browser: Browser
) -> Iterator[Ide]:
    with signed_in(
        ui_server, browser, "a11y", dom_terminal=True, color_scheme=request.param
    ) as session:
        yield session


def test_sign_in_and_sign_up_pages(anonymous_page: Ide) -> None:
    page = anonymous_page.page
    for path in ("/login/", "/register/"):
        page.goto(f"{anonymous_page.server.url}{path}")
        expect(page.get_by_role("button").first).to_be_visible()
        found = violations(page)
        assert not found, f"{path}:\n" + "\n".join(found)


def test_workspace_list(themed_ide: Ide) -> None:
    page = themed_ide.page
    page.goto(f"{themed_ide.server.url}/")
    expect(page.get_by_text("a11y")).to_be_visible()
    found = violations(page)
    assert not found, "\n".join(found)
    # And with the confirmation a deletion asks for.
    page.get_by_role("button", name="Delete a11y").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found = violations(page)
    assert not found, "\n".join(found)


def test_the_ide_with_a_file_a_run_and_a_terminal(themed_ide: Ide) -> None:
    themed_ide.put_file("main.py", "import sys\n\nprint('out')\nprint('err', file=sys.stderr)\n")
    themed_ide.open_workspace()
    themed_ide.open_file("main.py")
    themed_ide.run_and_wait("ok")
    themed_ide.wait_for_terminal(r"\$ ")
    found = violations(themed_ide.page)
    assert not found, "\n".join(found)


def test_tabs_close_from_the_keyboard(ide: Ide) -> None:
    # The close buttons are for the mouse; on a focused tab, Delete closes it.
    ide.put_file("a.py", "print('a')\n")
    ide.put_file("b.py", "print('b')\n")
    ide.open_workspace()
    ide.open_file("a.py")
    ide.open_file("b.py")
    files = ide.page.get_by_role("tablist", name="Open files")
    tab = files.get_by_role("tab", name="b.py")
    tab.focus()
    ide.page.keyboard.press("Delete")
    expect(files.get_by_role("tab")).to_have_count(1)
    expect(files.get_by_role("tab", name="a.py")).to_have_attribute("aria-selected", "true")

    terminals = ide.page.get_by_role("tablist", name="Terminal tabs")
    ide.page.get_by_role("button", name="New terminal").click()
    expect(terminals.get_by_role("tab")).to_have_count(2)
    terminals.get_by_role("tab").last.focus()
    ide.page.keyboard.press("Delete")
    expect(terminals.get_by_role("tab")).to_have_count(1)


def test_a_run_waiting_for_input_and_one_a_limit_ended(themed_ide: Ide) -> None:
    # The states that add controls and alerts: the input line, the limit notices.
    themed_ide.put_file("ask.py", "input('Your name? ')\n")
    themed_ide.put_file("slow.py", "import time\n\ntime.sleep(60)\n")
    themed_ide.open_workspace()
    page = themed_ide.page
    page.get_by_label("Run time limit (seconds)").fill("1")
    themed_ide.open_file("slow.py")
    themed_ide.run_and_wait("timeout")
    expect(page.get_by_test_id("run-limit")).to_be_visible()
    page.get_by_label("Run time limit (seconds)").fill("")
    themed_ide.open_file("ask.py")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("textbox", name="Input for the running program")).to_be_visible()
    found = violations(page)
    assert not found, "\n".join(found)
