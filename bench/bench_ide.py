"""The web IDE's figures (issue 5), measured in headless Chromium.

- JavaScript the workspace page loads: every script under /_next/static/
  fetched from navigation until the editor and terminal are up (a fresh
  context, so nothing is cached), each gzipped (level 9) and summed; also
  what actually crossed the wire (the server sends precompressed files).
- Navigation to an editable editor: from `page.goto` of a workspace URL
  (which reopens `main.py`) to the editor showing a typed keystroke, in a
  fresh browser context (cold: empty HTTP cache) and in one that has loaded
  the page before (warm). The key is pressed as soon as the editor shows
  the file and has the focus (the IDE focuses it), checked every animation
  frame, so Playwright's retry backoff does not count; the time ends when
  the page shows the key (read from the page's clock), not when Playwright
  reports it. Also, in the page (`performance.now()`, from the navigation's
  start): when the editor showed the file, and when it showed the key.

Needs the built web app (`make frontend`) and Debian's Chromium. Set
FRONTEND_DIR to measure another build of the web app.
Usage: backend/.venv/bin/python bench/run.py ide
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from common import print_table
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Response,
    StorageState,
    sync_playwright,
)
from tests.servers import SandpitServer
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD

from sandpit.config import REPO_DIR

RUNS = 9
PROGRAM = "import numpy as np\n\nprint(np.arange(10).sum())\n"
EDITOR = '.cm-content[aria-label="Editor: main.py"]'
SHOWN = f"document.querySelector('{EDITOR}')?.textContent?.includes('numpy')"
READY = f"{SHOWN} && document.activeElement?.matches('{EDITOR}')"
TYPED = f"document.querySelector('{EDITOR}')?.textContent?.includes('#')"
# Notes, in the page, when the editor first shows the file and when the key shows.
WATCH_EDITOR = f"""
new MutationObserver((_, observer) => {{
  window.__editorShown ??= {SHOWN} ? performance.now() : undefined;
  window.__keyShown ??= {TYPED} ? performance.now() : undefined;
  if (window.__keyShown !== undefined) {{
    observer.disconnect();
  }}
}}).observe(document, {{ childList: true, subtree: true, characterData: true }});
"""


def sign_in(browser: Browser, url: str) -> tuple[str, StorageState]:
    """A new user with a workspace whose saved state reopens `main.py`: answers the
    workspace's id and the browser state of the signed-in user (for new contexts)."""
    context = browser.new_context()
    credentials = {"username": f"f{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    context.request.post(f"{url}/api/auth/register", data=credentials)
    context.request.post(f"{url}/api/auth/login", data=credentials)
    workspace: dict[str, Any] = context.request.post(
        f"{url}/api/workspaces", data={"name": "bench"}
    ).json()
    workspace_id = str(workspace["id"])
    context.request.put(
        f"{url}/api/workspaces/{workspace_id}/files/main.py",
        data=PROGRAM.encode(),
        headers={"Content-Type": "text/plain"},
    )
    context.request.patch(
        f"{url}/api/workspaces/{workspace_id}",
        data={"ui_state": {"tabs": ["main.py"], "active": "main.py"}},
    )
    state = context.storage_state()
    context.close()
    return workspace_id, state


def editable(page: Page, url: str) -> tuple[float, float, float]:
    """Seconds from goto to a typed keystroke shown by the editor.

    Answers (from `page.goto`, editor shown in the page, keystroke shown in the
    page). The first ends when the page shows the key (its clock, the same
    wall clock as ours), not when Playwright has told us so.
    """
    start = time.time()
    page.goto(url, wait_until="commit")
    page.wait_for_function(f"() => {READY}", polling="raf", timeout=30_000)
    page.keyboard.press("#")
    page.wait_for_function(f"() => {TYPED}", polling="raf")
    origin, shown, typed = page.evaluate(
        "[performance.timeOrigin, window.__editorShown ?? NaN, window.__keyShown ?? NaN]"
    )
    outer = (float(origin) + float(typed)) / 1000 - start
    return outer, float(shown) / 1000, float(typed) / 1000


def scripts_loaded(context: BrowserContext, url: str) -> tuple[int, int, int, int]:
    """(scripts, bytes, gzipped bytes, bytes on the wire) the page loads until all is up."""
    raw: dict[str, int] = {}
    gzipped: dict[str, int] = {}
    wire: dict[str, int] = {}

    def record(response: Response) -> None:
        if response.request.resource_type == "script" and "/_next/static/" in response.url:
            body = response.body()
            raw[response.url] = len(body)
            gzipped[response.url] = len(gzip.compress(body, 9))
            wire[response.url] = response.request.sizes()["responseBodySize"]

    page = context.new_page()
    page.on("response", record)
    page.goto(url)
    page.locator(EDITOR).wait_for()
    page.get_by_test_id("terminal-status").get_by_text("Connected").wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    return len(raw), sum(raw.values()), sum(gzipped.values()), sum(wire.values())


def main() -> None:
    frontend = Path(os.environ.get("FRONTEND_DIR", REPO_DIR / "frontend" / "out"))
    if not (frontend / "index.html").is_file():
        raise SystemExit(f"build the web app first (make frontend): no {frontend}/index.html")
    server = SandpitServer(frontend_dir=str(frontend))
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            workspace_id, state = sign_in(browser, server.url)
            page_url = f"{server.url}/workspace/?id={workspace_id}"

            context = browser.new_context(storage_state=state)
            scripts, total_raw, total_gz, total_wire = scripts_loaded(context, page_url)
            context.close()

            cold = []
            for _ in range(RUNS):
                context = browser.new_context(storage_state=state)
                context.add_init_script(WATCH_EDITOR)
                cold.append(editable(context.new_page(), page_url))
                context.close()
            context = browser.new_context(storage_state=state)
            context.add_init_script(WATCH_EDITOR)
            page = context.new_page()
            editable(page, page_url)
            warm = [editable(page, page_url) for _ in range(RUNS)]
            context.close()
            browser.close()
    finally:
        server.close()

    print_table(
        ("JavaScript of the workspace page", "scripts", "bytes", "gzip -9", "on the wire"),
        [("all of it", str(scripts), f"{total_raw:,}", f"{total_gz:,}", f"{total_wire:,}")],
    )
    print()
    rows = []
    for name, runs in (("cold (new context)", cold), ("warm (cached)", warm)):
        outer = [r[0] for r in runs]
        rows.append(
            (
                name,
                str(len(runs)),
                f"{statistics.median(outer):.3f}",
                f"{min(outer):.3f}",
                f"{max(outer):.3f}",
                f"{statistics.median(r[1] for r in runs):.3f}",
                f"{statistics.median(r[2] for r in runs):.3f}",
            )
        )
    print_table(
        (
            "goto -> keystroke shown",
            "n",
            "median s",
            "min s",
            "max s",
            "editor shown, in page",
            "keystroke, in page",
        ),
        rows,
    )
    figures = {
        "js_gzip_bytes": total_gz,
        "js_raw_bytes": total_raw,
        "js_wire_bytes": total_wire,
        "scripts": scripts,
        "editable_cold_median_s": statistics.median(r[0] for r in cold),
        "editable_warm_median_s": statistics.median(r[0] for r in warm),
        "editable_cold_in_page_median_s": statistics.median(r[2] for r in cold),
        "editor_shown_cold_in_page_median_s": statistics.median(r[1] for r in cold),
    }
    out = REPO_DIR / "artifacts" / "figures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
