"""Submission and review in the browser, the whole loop, with three browser contexts.

A reviewer sets an assignment; a student starts it, submits, sees the automated
results; the reviewer comments on a line and requests changes; the student sees
the comment in the gutter of the submitted version, replies, fixes and
resubmits; the reviewer compares the versions, approves with a score and opens
a copy to run it; the student sees the grade; the grades CSV lists it. A third
user, another student, gets nothing of the first one's work.

The checks run for real (a fresh sandbox per submission, pytest and ruff from
the runtime image), so this module's one server checks two submissions.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.servers import SandpitServer
from tests.ui.conftest import PASSWORD, Ide, new_context
from tests.ui.test_accessibility import AXE, SERIOUS, violations

# A first try with a bug (one hidden test of two fails), then the fix.
BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
HIDDEN_TESTS = (
    "from main import add\n\n\n"
    "def test_adds():\n    assert add(2, 3) == 5\n\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n"
)
# Markdown with raw HTML that must never reach the page as HTML.
DESCRIPTION = (
    "Write **add**.\n\n"
    '<img src=x onerror="window.__pwned = 1"> <script>window.__pwned = 1</script>\n\n'
    "[docs](javascript:window.__pwned=1)\n"
)
# The grader starts a fresh sandbox per submission: on a busy machine this takes a while.
CHECKS_TIMEOUT_MS = 180_000


@pytest.fixture
def contexts(ui_server: SandpitServer, browser: Browser) -> Iterator[tuple[Ide, Ide, Ide]]:
    """(reviewer, student, another student), each signed in in a browser context of its own."""
    sessions = [Ide(ui_server, new_context(browser)) for _ in range(3)]
    reviewer, student, other = sessions
    subprocess.run(
        [sys.executable, "-m", "sandpit", "user", "create", reviewer.username,
         "--role", "reviewer", "--password-stdin"],
        input=PASSWORD + "\n", env=ui_server.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    reviewer.api(
        "POST", "/api/auth/login", data={"username": reviewer.username, "password": PASSWORD}
    )
    student.sign_up_by_api()
    other.sign_up_by_api()
    try:
        yield reviewer, student, other
    finally:
        for session in sessions:
            session.context.close()


def wait_for_checks(page: Page, score: str) -> None:
    """Wait until the submission page shows its finished checks with `score`."""
    checks = page.get_by_test_id("checks")
    expect(checks).to_have_attribute(
        "data-status", re.compile("^(done|error)$"), timeout=CHECKS_TIMEOUT_MS
    )
    assert checks.get_attribute("data-status") == "done", checks.inner_text()
    expect(page.get_by_test_id("checks-score")).to_have_text(f"Score {score}")


def accessible(page: Page, where: str) -> None:
    """No serious or critical axe violation on the page as it is now."""
    found = violations(page)
    assert not found, f"{where}:\n" + "\n".join(found)


def drawer_accessible(page: Page) -> None:
    """No serious or critical axe violation inside the IDE's submission drawer (the IDE
    around it has its own test, test_accessibility.py; the drawer overlays its toolbar)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """() => axe.run(document.querySelector('aside[aria-label="Submissions"]'), {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
            resultTypes: ["violations"],
        })"""
    )
    found = [v["id"] for v in result["violations"] if v["impact"] in SERIOUS]
    assert not found, f"the IDE's submission drawer: {found}"


def submit_from_ide(student: Ide, title: str, message: str, version: int) -> None:
    """In the open workspace: Submit, with `message`; then open the new version's page."""
    page = student.page
    page.get_by_role("button", name="Submit", exact=True).click()
    drawer = page.get_by_role("complementary", name="Submissions")
    drawer.get_by_label("Message").fill(message)
    drawer.get_by_role("button", name="Submit this version").click()
    expect(drawer.get_by_role("status")).to_have_text(f"Submitted version {version}.")
    if version == 1:
        drawer_accessible(page)
    drawer.get_by_role("link", name=f"Version {version}", exact=True).click()
    expect(page.get_by_role("heading", name=f"{title}: version {version}")).to_be_visible()


def test_assignment_submit_review_resubmit_approve_grade(
    ui_server: SandpitServer, contexts: tuple[Ide, Ide, Ide]
) -> None:
    reviewer, student, other = contexts
    title = f"Fizz {uuid.uuid4().hex[:6]}"

    # --- The reviewer sets the assignment. ---
    page = reviewer.page
    page.goto(f"{ui_server.url}/assignments/")
    page.get_by_role("button", name="New assignment").click()
    form = page.get_by_role("form", name="New assignment")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Description (Markdown)").fill(DESCRIPTION)
    form.get_by_label("Path of starter file 1").fill("main.py")
    form.get_by_label("Content of starter file 1").fill(BUGGY)
    form.get_by_label("Path of hidden test file 1").fill("test_main.py")
    form.get_by_label("Content of hidden test file 1").fill(HIDDEN_TESTS)
    accessible(page, "the new assignment form")
    form.get_by_role("button", name="Create assignment").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
    expect(card.get_by_text("1 hidden test file(s)")).to_be_visible()

    # --- The student starts it, sees no hidden test, submits, sees the results. ---
    page = student.page
    page.goto(f"{ui_server.url}/assignments/")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
    # The description is Markdown, rendered; its raw HTML and script link are not.
    expect(card.locator("strong")).to_have_text("add")
    expect(card.locator("img, script")).to_have_count(0)
    expect(card.get_by_role("link", name="docs")).not_to_have_attribute(
        "href", "javascript:window.__pwned=1"
    )
    expect(card).not_to_contain_text("test_adds")
    card.get_by_role("button", name=f"Start {title}").click()
    page.wait_for_url(re.compile(r"/workspace/\?id="))
    student.workspace_id = page.url.split("id=")[1]
    expect(student.open_file("main.py")).to_contain_text("return a - b")
    submit_from_ide(student, title, "first try", 1)
    wait_for_checks(page, "1 / 2")
    # Hidden tests reach the student as a count and a score, never by name.
    expect(page.get_by_test_id("hidden-tests")).to_have_text("2 hidden tests: 1 / 2")
    expect(page.get_by_test_id("checks")).not_to_contain_text("test_adds")
    first_url = page.url
    first_id = first_url.split("id=")[1]
    assert page.evaluate("window.__pwned") is None

    # --- Another student gets nothing of it. ---
    other.page.goto(first_url)
    expect(other.page.get_by_role("alert")).to_be_visible()
    assert other.context.request.get(f"{ui_server.url}/api/submissions/{first_id}").status == 404

    # --- The reviewer comments on line 2 and requests changes. ---
    page = reviewer.page
    page.goto(f"{ui_server.url}/review/")
    row = page.get_by_test_id("submission-row").filter(has_text=student.username)
    row.get_by_role("link", name=title).click()
    wait_for_checks(page, "1 / 2")
    # The reviewer sees every test by name.
    expect(page.get_by_role("list", name="Tests")).to_contain_text("test_adds")
    expect(page.get_by_label("Submitted file: main.py")).to_contain_text("return a - b")
    # A click on line 2's number picks the line for the comment.
    page.get_by_test_id("submission-editor").locator(
        ".cm-lineNumbers .cm-gutterElement", has_text="2"
    ).click()
    comment = page.get_by_role("form", name="New comment")
    comment.get_by_label("Comment on main.py").fill("This *subtracts*: use `+`.")
    comment.get_by_role("button", name="Comment on line 2").click()
    thread = page.get_by_test_id("thread")
    expect(thread).to_have_attribute("data-line", "2")
    expect(thread.locator("em")).to_have_text("subtracts")
    accessible(page, "a reviewer's submission view")
    review = page.get_by_role("form", name="Your review")
    review.get_by_label("Request changes").check()
    review.get_by_label("Summary").fill("Nearly: see line 2.")
    review.get_by_role("button", name="Submit review").click()
    expect(page.get_by_test_id("submission-status")).to_have_text("Changes requested")

    # --- The student sees the unread comment, then the comment in the gutter; replies. ---
    page = student.page
    page.goto(f"{ui_server.url}/")
    badge = page.get_by_test_id("submission-badge")
    expect(badge).to_contain_text("Version 1: Changes requested")
    expect(badge).to_contain_text("unread comment")
    accessible(page, "the workspace list with a submission's status")
    badge.click()
    expect(page.get_by_test_id("submission-status")).to_have_text("Changes requested")
    marker = page.get_by_test_id("submission-editor").locator(
        ".cm-comment-gutter .cm-comment-marker"
    )
    expect(marker).to_have_text("1")
    thread = page.get_by_test_id("thread")
    expect(thread).to_contain_text("use +")
    thread.get_by_label("Reply to the comment on line 2").fill("Fixed, thanks.")
    thread.get_by_role("button", name="Reply").click()
    expect(thread).to_contain_text("Fixed, thanks.")
    expect(marker).to_have_text("2")

    # --- The student fixes the file in the IDE and resubmits. ---
    student.open_workspace()
    editor = student.open_file("main.py")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(FIXED)
    submit_from_ide(student, title, "fixed", 2)
    wait_for_checks(page, "2 / 2")

    # --- The reviewer compares with version 1 and approves with a score. ---
    page = reviewer.page
    page.goto(f"{ui_server.url}/review/")
    page.get_by_label("Sort").select_option(label="Newest submission first")
    accessible(page, "the review queue")
    row = page.get_by_test_id("submission-row").filter(has_text=student.username).first
    expect(row.get_by_role("cell").nth(2)).to_have_text("2")
    row.get_by_role("link", name=title).click()
    wait_for_checks(page, "2 / 2")
    page.get_by_label("Compare with").select_option(label="Version 1")
    diff = page.get_by_test_id("diff-view")
    expect(diff).to_contain_text("return a - b")
    expect(diff).to_contain_text("return a + b")
    page.get_by_label("Compare with").select_option(label="Nothing")
    review = page.get_by_role("form", name="Your review")
    review.get_by_label("Approve").check()
    review.get_by_label("Summary").fill("Well done.")
    review.get_by_label("Score (optional)").fill("9.5")
    review.get_by_role("button", name="Submit review").click()
    expect(page.get_by_test_id("submission-status")).to_have_text("Approved")
    reviewer.screenshot("review-approved")
    # "Open a copy to run it": a workspace of the reviewer's with the submitted files.
    page.get_by_role("button", name="Open a copy to run it").click()
    page.wait_for_url(re.compile(r"/workspace/\?id="))
    reviewer.workspace_id = page.url.split("id=")[1]
    expect(reviewer.open_file("main.py")).to_contain_text("return a + b")

    # --- The student sees the grade. ---
    page = student.page
    page.reload()
    expect(page.get_by_test_id("submission-status")).to_have_text("Approved")
    expect(page.get_by_test_id("grade")).to_have_text("Grade: 9.5")
    expect(page.get_by_test_id("review").last).to_contain_text("Well done.")
    accessible(page, "a student's graded submission")
    student.screenshot("review-student-grade")

    # --- The grades CSV lists it (downloaded from the reviewer's page). ---
    page = reviewer.page
    page.goto(f"{ui_server.url}/assignments/")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
    with page.expect_download() as download_info:
        card.get_by_role("link", name="Grades (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download_info.value.path().read_text())))
    [mine] = [row for row in rows if student.username in row.values()]
    assert "approved" in mine.values()
    assert "9.5" in mine.values()
    assert "2" in mine.values()
