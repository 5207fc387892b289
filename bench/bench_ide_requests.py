"""How many API requests the web IDE makes: the figures `USER_REQUEST_BURST`
and `USER_REQUESTS_PER_S` are sized against (issue 12).

Headless Chromium on a server with the default request rate. One user
opens a workspace page (editor, terminal), then uses it for a while: types
and saves, runs the program three times, types in the terminal, sits idle,
and reloads the page twice in a row. Every request to `/api/` the page
makes (WebSocket upgrades included) is recorded with its time.

Reported: requests on the page load (until the editor and the terminal are
up, plus 3 s), the most in any 1 s and any 10 s window over the whole
session, the mean rate in use and idle, and how many were refused (429):
the defaults must leave the IDE far from the limit.

Usage: backend/.venv/bin/python bench/run.py ide_requests
"""

from __future__ import annotations

import bisect
import os
import time
from pathlib import Path

from bench_ide import EDITOR, sign_in
from common import print_table
from playwright.sync_api import Page, Request, Response, WebSocket, sync_playwright
from tests.servers import SandpitServer
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

from sandpit.config import REPO_DIR, Settings

IDLE_S = 20


def most_in_window(times: list[float], window_s: float) -> int:
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window_s) - i for i, t in enumerate(ordered)), default=0
    )


def loaded(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(EDITOR).wait_for(timeout=30_000)
    page.get_by_test_id("terminal-status").get_by_text("Connected").wait_for(timeout=30_000)
    page.wait_for_timeout(3000)


class Recorder:
    """The page's API requests (WebSocket upgrades too) by time, and its refusals."""

    def __init__(self, page: Page) -> None:
        self.times: list[float] = []
        self.refused: list[str] = []
        self.phases: dict[str, tuple[float, float]] = {}
        page.on("request", self.request)
        page.on("websocket", self.request)
        page.on("response", self.response)

    def request(self, request: Request | WebSocket) -> None:
        if "/api/" in request.url:
            self.times.append(time.monotonic())

    def response(self, response: Response) -> None:
        if "/api/" in response.url and response.status == 429:
            self.refused.append(response.url)

    def phase(self, name: str, began: float) -> float:
        now = time.monotonic()
        self.phases[name] = (began, now)
        return now


def use(page: Page, url: str, recorder: Recorder) -> None:
    """Open the page, work in it, idle, reload twice: each a phase of `recorder`."""
    began = time.monotonic()
    loaded(page, url)
    began = recorder.phase("page load", began)
    for n in range(3):
        page.locator(EDITOR).click()
        page.keyboard.press("End")
        page.keyboard.type(f"\nprint('run {n}')")
        page.keyboard.press("Control+s")
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text(f"run {n}").last.wait_for(timeout=60_000)
    page.locator(".terminal-surface:not(.hidden) .xterm-screen").click()
    page.keyboard.type("ls -la\n")
    page.wait_for_timeout(2000)
    began = recorder.phase("in use (type, save, 3 runs, terminal)", began)
    page.wait_for_timeout(IDLE_S * 1000)
    began = recorder.phase(f"idle {IDLE_S} s", began)
    for _ in range(2):
        loaded(page, url)
    recorder.phase("two reloads", began)


def main() -> None:
    frontend = Path(os.environ.get("FRONTEND_DIR", REPO_DIR / "frontend" / "out"))
    defaults = Settings.model_fields
    rate = defaults["user_requests_per_s"].default
    burst = defaults["user_request_burst"].default
    server = SandpitServer(
        frontend_dir=str(frontend),
        user_requests_per_s=str(rate),
        user_request_burst=str(burst),
    )
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            workspace_id, state = sign_in(browser, server.url)
            context = browser.new_context(storage_state=state)
            page = context.new_page()
            recorder = Recorder(page)
            use(page, f"{server.url}/workspace/?id={workspace_id}", recorder)
            context.close()
            browser.close()
    finally:
        server.close()

    times = recorder.times
    rows = []
    for name, (start, end) in recorder.phases.items():
        count = sum(start <= t < end for t in times)
        rows.append((name, str(count), f"{end - start:.1f}", f"{count / (end - start):.1f}"))
    print_table(("phase", "API requests", "seconds", "a second"), rows)
    print()
    print(
        f"whole session: {len(times)} API requests; most in any 1 s: "
        f"{most_in_window(times, 1)}, in any 10 s: {most_in_window(times, 10)}; "
        f"refused (429): {len(recorder.refused)}; limits: {rate:g} a second, bursts of {burst}"
    )
