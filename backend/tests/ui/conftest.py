"""Browser tests: Playwright for Python driving Debian's Chromium against a real server.

One Sandpit server (SQLite) per module serves the built web app
(`frontend/out`, built by `make test`), and one headless Chromium per
session. Each test gets a fresh browser context, signed in as a fresh user.
Playwright never downloads a browser here: it launches /usr/bin/chromium.

Every context watches for Content-Security-Policy violations (the page's
`securitypolicyviolation` events and Chromium's console reports of them);
a test during which any happened fails, whatever it was testing.
"""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    expect,
    sync_playwright,
)

from sandpit.config import REPO_DIR
from tests.servers import SandpitServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# One patience for the page's actions and for `expect`'s assertions (whose
# default stays 5 s otherwise): a slow, shared machine needs both.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)
SCREENSHOTS = REPO_DIR / "artifacts" / "screenshots"
PASSWORD = "correct horse battery"
# Makes xterm.js fall back from WebGL to its DOM renderer, whose rows the
# tests can read (a WebGL canvas has no text). The fallback is a feature too.
NO_WEBGL = """
const original = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
  return type === "webgl2" || type === "webgl" ? null : original.call(this, type, ...rest);
};
"""


@pytest.fixture(scope="module")
def ui_server() -> Iterator[SandpitServer]:
    """A real server with SQLite, serving the exported web app."""
    if not (REPO_DIR / "frontend" / "out" / "index.html").is_file():
        pytest.fail("The web app is not built: `cd frontend && npm run build` (make test does).")
    server = SandpitServer()
    server.start()
    yield server
    server.close()


def browser_scope(fixture_name: str, config: pytest.Config) -> str:
    """One Chromium per session; per module when the pass runs on xdist workers.

    Playwright's sync API keeps an event loop running in the main thread while
    it is open, and pytest-asyncio cannot run a test then. In one process the
    browser tests come last but for sync ones; on a worker, any test file may
    follow a browser test's, so there the browser closes with its module.
    A worker is told by `workerinput`: xdist resets a worker's own
    `numprocesses` option to None.
    """
    return "module" if hasattr(config, "workerinput") else "session"


@pytest.fixture(scope=browser_scope)  # type: ignore[arg-type]
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail("Chromium is missing: `apt-get install chromium` (setup-system.sh test).")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Ide:
    """A signed-in browser context and the helpers the tests share."""

    def __init__(self, server: SandpitServer, context: BrowserContext) -> None:
        self.server = server
        self.context = context
        self.page: Page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.username = f"u{uuid.uuid4().hex[:12]}"
        self.workspace_id = ""

    # --- through the API (setup only; the behaviour under test goes through the page) ---

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.context.request.fetch(f"{self.server.url}{path}", method=method, **kwargs)
        assert response.ok, f"{method} {path}: {response.status} {response.text()}"
        is_json = response.headers.get("content-type", "").startswith("application/json")
        return response.json() if is_json else None

    def sign_up_by_api(self) -> None:
        credentials = {"username": self.username, "password": PASSWORD}
        self.api("POST", "/api/auth/register", data=credentials)
        # Sets the session cookie in this browser context.
        self.api("POST", "/api/auth/login", data=credentials)

    def create_workspace(self, name: str = "ws") -> str:
        created = self.api("POST", "/api/workspaces", data={"name": name})
        self.workspace_id = created["id"]
        return self.workspace_id

    def put_file(self, path: str, text: str) -> None:
        self.api(
            "PUT",
            f"/api/workspaces/{self.workspace_id}/files/{path}",
            data=text.encode(),
            headers={"Content-Type": "text/plain"},
        )

    def read_file(self, path: str) -> str:
        response = self.context.request.get(
            f"{self.server.url}/api/workspaces/{self.workspace_id}/files/{path}"
        )
        assert response.ok, response.text()
        return response.text()

    # --- the page ---

    def open_workspace(self, base_url: str | None = None) -> None:
        """Open the workspace page (from `base_url`, a proxy, instead of the server's)."""
        self.page.goto(f"{base_url or self.server.url}/workspace/?id={self.workspace_id}")
        self.page.get_by_role("tree", name="Workspace files").or_(
            self.page.get_by_text("No files yet.")
        ).wait_for()

    def tree_item(self, path: str) -> Locator:
        # A CSS string: backslashes (escaped names hold them) and quotes escaped.
        quoted = path.replace("\\", "\\\\").replace('"', '\\"')
        return self.page.locator(f'[role="treeitem"][data-path="{quoted}"]')

    def open_file(self, path: str) -> Locator:
        """Click the file in the tree; answers the editor, once it shows the file."""
        self.tree_item(path).click()
        editor = self.page.get_by_role("textbox", name=f"Editor: {path}")
        editor.wait_for()
        return editor

    def run_and_wait(self, status: str, timeout_s: float = 60) -> Locator:
        """Press Run; answers the new run's block once it has finished with `status`."""
        before = self.page.get_by_test_id("run").count()
        self.page.get_by_role("button", name="Run", exact=True).click()
        block = self.page.get_by_test_id("run").nth(before)
        block.and_(self.page.locator(f'[data-status="{status}"]')).wait_for(
            timeout=timeout_s * 1000
        )
        return block

    def terminal_text(self) -> str:
        """What the visible terminal shows (xterm's DOM renderer), spaces normalised."""
        rows = self.page.locator(".terminal-surface:not(.hidden) .xterm-rows")
        return rows.inner_text().replace("\u00a0", " ")

    def wait_for_terminal(self, pattern: str, timeout_s: float = 20) -> str:
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.terminal_text()
            if re.search(pattern, text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"terminal never showed {pattern!r}; it shows:\n{text}")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


# Reports each violation on the console, where the context's listener finds it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""
# What the current test's contexts reported: checked by `no_csp_violations`.
CSP_VIOLATIONS: list[str] = []


def _watch_csp(message: ConsoleMessage) -> None:
    text = message.text
    if text.startswith("CSP violation:") or "Content Security Policy" in text:
        CSP_VIOLATIONS.append(text)


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context with the laptop-sized viewport every UI test uses,
    watching for CSP violations."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, **options)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    context.on("console", _watch_csp)
    return context


@pytest.fixture(autouse=True)
def no_csp_violations() -> Iterator[None]:
    """Fail the test if any page it opened violated the Content-Security-Policy."""
    CSP_VIOLATIONS.clear()
    yield
    found = list(CSP_VIOLATIONS)
    CSP_VIOLATIONS.clear()
    assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)


@contextlib.contextmanager
def signed_in(
    server: SandpitServer,
    browser: Browser,
    workspace: str,
    *,
    dom_terminal: bool = False,
    **options: Any,
) -> Iterator[Ide]:
    """A fresh browser context (`options` as for `new_context`) signed in as a
    fresh user, with an empty workspace named `workspace`; closed afterwards.
    `dom_terminal`: xterm.js on its DOM renderer, so the terminal's rows can be read."""
    context = new_context(browser, **options)
    if dom_terminal:
        context.add_init_script(NO_WEBGL)
    session = Ide(server, context)
    session.sign_up_by_api()
    session.create_workspace(workspace)
    try:
        yield session
    finally:
        context.close()


@pytest.fixture
def ide(ui_server: SandpitServer, browser: Browser) -> Iterator[Ide]:
    """A fresh browser context signed in as a fresh user, with an empty workspace."""
    with signed_in(ui_server, browser, "demo") as session:
        yield session


@pytest.fixture
def anonymous_page(ui_server: SandpitServer, browser: Browser) -> Iterator[Ide]:
    """A fresh browser context with no session."""
    context = new_context(browser)
    yield Ide(ui_server, context)
    context.close()


@pytest.fixture
def terminal_ide(ui_server: SandpitServer, browser: Browser) -> Iterator[Ide]:
    """Like `ide`, with xterm.js on its DOM renderer so the terminal's rows can be read."""
    with signed_in(ui_server, browser, "terminal", dom_terminal=True) as session:
        yield session
