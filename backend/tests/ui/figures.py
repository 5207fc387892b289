"""The web IDE's two figures (issue 5), measured in headless Chromium; prints a table.

    cd backend && .venv/bin/python -m tests.ui.figures

1. JavaScript the workspace page loads: every script under /_next/static/
   fetched from navigation until the editor and terminal are up (a fresh
   context, so nothing is cached), each gzipped (level 9) and summed.
2. Navigation to an editable editor: from `page.goto` to the editor showing a
   typed keystroke, for a workspace that reopens `main.py`; cold (new
   context) and warm (HTTP cache filled) runs, median of several. The
   in-page figure (`performance.now()` at that moment, from the navigation's
   start) leaves out Playwright's own round trips.

A measurement, not a test: it asserts nothing about speed (STYLE.md).
Needs the built web app (`cd frontend && npm run build`).
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
import time
import uuid
from typing import Any

from playwright.sync_api import BrowserContext, Page, Response, sync_playwright

from sandpit.config import REPO_DIR
from tests.servers import SandpitServer
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD

RUNS = 7
PROGRAM = "import numpy as np\n\nprint(np.arange(10).sum())\n"


def sign_in(context: BrowserContext, url: str) -> str:
    credentials = {"username": f"f{uuid.uuid4().hex[:12]}", "password": PASSWORD}
    context.request.post(f"{url}/api/auth/register", data=credentials)
    context.request.post(f"{url}/api/auth/login", data=credentials)
    workspace: dict[str, Any] = context.request.post(
        f"{url}/api/workspaces", data={"name": "figures"}
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
    return workspace_id


def editable(page: Page, url: str) -> tuple[float, float]:
    """Seconds from goto to a keystroke shown by the editor: (measured here, in the page)."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    editor = page.locator('.cm-content[aria-label="Editor: main.py"]')
    editor.press("End")
    editor.press("#")
    page.wait_for_function(
        "() => document.querySelector('.cm-content')?.textContent?.includes('#')", polling="raf"
    )
    in_page = float(page.evaluate("performance.now()")) / 1000
    return time.perf_counter() - start, in_page


def main() -> int:
    if not (REPO_DIR / "frontend" / "out" / "index.html").is_file():
        print("Build the web app first: cd frontend && npm run build", file=sys.stderr)
        return 1
    server = SandpitServer()
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            setup = browser.new_context()
            workspace_id = sign_in(setup, server.url)
            state = setup.storage_state()
            setup.close()
            page_url = f"{server.url}/workspace/?id={workspace_id}"

            # --- 1. JavaScript shipped ---
            context = browser.new_context(storage_state=state)
            scripts: dict[str, int] = {}
            raw: dict[str, int] = {}

            def record(response: Response) -> None:
                if response.request.resource_type == "script" and "/_next/static/" in response.url:
                    body = response.body()
                    raw[response.url] = len(body)
                    scripts[response.url] = len(gzip.compress(body, 9))

            page = context.new_page()
            page.on("response", record)
            page.goto(page_url)
            page.locator('.cm-content[aria-label="Editor: main.py"]').wait_for()
            page.get_by_test_id("terminal-status").get_by_text("Connected").wait_for(timeout=30_000)
            page.wait_for_timeout(2000)
            context.close()

            # --- 2. Navigation to an editable editor ---
            cold: list[tuple[float, float]] = []
            for _ in range(RUNS):
                context = browser.new_context(storage_state=state)
                cold.append(editable(context.new_page(), page_url))
                context.close()
            context = browser.new_context(storage_state=state)
            page = context.new_page()
            editable(page, page_url)
            warm = [editable(page, page_url) for _ in range(RUNS)]
            context.close()
            browser.close()
    finally:
        server.close()

    total_gz = sum(scripts.values())
    total_raw = sum(raw.values())
    print(f"{'script':<60} {'bytes':>10} {'gzipped':>10}")
    for url in sorted(scripts, key=lambda u: -scripts[u]):
        print(f"{url.rsplit('/', 1)[-1]:<60} {raw[url]:>10,} {scripts[url]:>10,}")
    print(f"{'total (' + str(len(scripts)) + ' scripts)':<60} {total_raw:>10,} {total_gz:>10,}")
    print()
    print(f"{'navigation -> editable editor':<34} {'median':>8} {'max':>8} {'in page':>8}")
    for name, runs in (("cold (new context)", cold), ("warm (cached)", warm)):
        outer = [r[0] for r in runs]
        inner = [r[1] for r in runs]
        print(
            f"{name:<34} {statistics.median(outer):>7.3f}s {max(outer):>7.3f}s "
            f"{statistics.median(inner):>7.3f}s"
        )
    figures = {
        "js_gzip_bytes": total_gz,
        "js_raw_bytes": total_raw,
        "scripts": len(scripts),
        "editable_cold_median_s": statistics.median(r[0] for r in cold),
        "editable_warm_median_s": statistics.median(r[0] for r in warm),
        "editable_cold_in_page_median_s": statistics.median(r[1] for r in cold),
    }
    out = REPO_DIR / "artifacts" / "figures.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
