"""Times read right in the browser's own zone: the workspace list and a run, in
Chromium set to New York (UTC-5 in December) and to Tokyo (UTC+9).

The API sends UTC with its offset; a time without one would be read by the
browser as local time, and a workspace made a moment ago would show
"in 5 hours" in New York and "9 hours ago" in Tokyo.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator

from tests.servers import SandpitServer
from tests.ui.conftest import signed_in

# What Intl.RelativeTimeFormat (en-US, numeric: "auto") says of a moment ago.
JUST_NOW = re.compile(r"^(now|\d+ seconds? ago|1 minute ago)$")


def local_clock(iso: str, zone: str) -> str:
    """The API's `iso` as en-US shows the time of day in `zone`, e.g. "2:21 AM"."""
    moment = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    return f"{moment.hour % 12 or 12}:{moment.minute:02d}\u202f{'AM' if moment.hour < 12 else 'PM'}"


def assert_shows_just_now(time: Locator, iso: str, zone: str) -> None:
    assert JUST_NOW.match(time.inner_text().strip()), time.inner_text()
    # The tooltip holds the full local date and time: the zone's clock, not UTC's.
    title = time.get_attribute("title") or ""
    assert local_clock(iso, zone) in title.replace(" ", "\u202f"), (title, iso, zone)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_times_read_right_in_the_browsers_zone(
    ui_server: SandpitServer, browser: Browser, zone: str
) -> None:
    with signed_in(ui_server, browser, "timely", timezone_id=zone, locale="en-US") as ide:
        assert ide.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == zone
        workspace = ide.api("GET", f"/api/workspaces/{ide.workspace_id}")
        assert workspace["updated_at"].endswith("Z"), workspace
        run = ide.api(
            "POST",
            f"/api/workspaces/{ide.workspace_id}/runs?wait=true",
            data={"code": "print('on time')"},
        )
        assert run["created_at"].endswith("Z"), run

        ide.page.goto(f"{ui_server.url}/")
        row = ide.page.get_by_role("listitem").filter(has_text="timely")
        assert_shows_just_now(row.locator("time"), workspace["updated_at"], zone)

        ide.open_workspace()
        block = ide.page.get_by_test_id("run").filter(has_text="on time")
        assert_shows_just_now(block.get_by_test_id("run-started"), run["created_at"], zone)
