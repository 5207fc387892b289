"""File tree operations, the workspace zip, remembered layout, and the dark theme."""

from __future__ import annotations

import io
import zipfile

from playwright.sync_api import Browser, FilePayload, expect

from tests.servers import SandpitServer
from tests.ui.conftest import Ide


def test_folders_rename_delete_upload_and_zip(ide: Ide) -> None:
    page = ide.page
    ide.put_file("notes.txt", "first\n")
    ide.open_workspace()

    page.get_by_role("button", name="New folder").click()
    page.get_by_label("New folder name").fill("data")
    page.keyboard.press("Enter")
    expect(ide.tree_item("data")).to_be_visible()

    # Upload into the focused folder (the Upload button; a drop does the same).
    ide.tree_item("data").click()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload files").click()
    upload: FilePayload = {"name": "points.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n"}
    chooser.value.set_files(files=[upload])
    expect(ide.tree_item("data/points.csv")).to_be_visible()
    assert ide.read_file("data/points.csv") == "x,y\n1,2\n"

    # Rename with F2, from the keyboard.
    ide.tree_item("notes.txt").focus()
    page.keyboard.press("F2")
    page.get_by_label("Rename notes.txt").fill("readme.txt")
    page.keyboard.press("Enter")
    expect(ide.tree_item("readme.txt")).to_be_visible()
    expect(ide.tree_item("notes.txt")).to_have_count(0)

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download all as zip").click()
    download = download_info.value
    assert download.suggested_filename == "demo.zip"
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    assert sorted(archive.namelist()) == ["data/points.csv", "readme.txt"]
    assert archive.read("readme.txt") == b"first\n"

    # Delete asks first.
    ide.tree_item("readme.txt").focus()
    page.keyboard.press("Delete")
    dialog = page.get_by_role("dialog", name="Delete file?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Delete").click()
    expect(ide.tree_item("readme.txt")).to_have_count(0)
    ide.screenshot("file-tree")


def test_tabs_and_panel_sizes_are_restored(ide: Ide) -> None:
    page = ide.page
    ide.put_file("a.py", "print('a')\n")
    ide.put_file("b.py", "print('b')\n")
    ide.open_workspace()
    ide.open_file("a.py")
    ide.open_file("b.py")
    splitter = page.get_by_role("separator", name="Resize files panel")
    before = int(splitter.get_attribute("aria-valuenow") or 0)
    splitter.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(splitter).to_have_attribute("aria-valuenow", str(before + 48))
    # The state is saved a moment after the last change.
    with page.expect_request(lambda r: r.method == "PATCH"):
        pass

    page.reload()
    expect(page.get_by_role("tab", name="a.py")).to_be_visible()
    expect(page.get_by_role("tab", name="b.py")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("separator", name="Resize files panel")).to_have_attribute(
        "aria-valuenow", str(before + 48)
    )


def test_dark_theme_follows_the_system(ui_server: SandpitServer, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="dark")
    try:
        ide = Ide(ui_server, context)
        ide.sign_up_by_api()
        ide.create_workspace("dark")
        ide.put_file("main.py", "for i in range(3):\n    print(i)  # dark\n")
        ide.open_workspace()
        ide.page.get_by_role("textbox", name="Editor: main.py").wait_for()
        ide.run_and_wait("ok")
        background = ide.page.evaluate("getComputedStyle(document.body).backgroundColor")
        inside = background[background.index("(") + 1 : -1]
        channels = [float(part) for part in inside.split(",")[:3]]
        assert max(channels) < 80, background
        ide.screenshot("ide-dark")
    finally:
        context.close()
