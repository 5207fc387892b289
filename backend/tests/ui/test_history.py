"""History and snapshots in the browser: snapshot, change, compare, download, restore; a
file's history with its diff and restore; a deleted file brought back."""

from __future__ import annotations

import io
import zipfile

from playwright.sync_api import expect

from tests.ui.conftest import Ide


def test_snapshot_change_compare_and_restore(ide: Ide) -> None:
    page = ide.page
    ide.put_file("main.py", "print('one')\n")
    ide.put_file("data.txt", "kept\n")
    ide.open_workspace()

    page.get_by_role("button", name="History", exact=True).click()
    history = page.get_by_role("complementary", name="History")
    history.get_by_role("tab", name="Snapshots").click()
    history.get_by_label("Snapshot name").fill("Before my change")
    history.get_by_role("button", name="Save snapshot").click()
    expect(history.get_by_text("Saved snapshot “Before my change” (2 files).")).to_be_visible()

    # View a file of the snapshot, read-only.
    history.get_by_role("list", name="Files in the snapshot").get_by_role(
        "button", name="main.py"
    ).click()
    expect(history.get_by_label("main.py in the snapshot")).to_have_text("print('one')\n")

    # Change files behind the panel, then compare.
    ide.put_file("main.py", "print('two')\n")
    ide.put_file("extra.py", "x = 1\n")
    history.get_by_role("button", name="Compare with now").first.click()
    changes = history.get_by_role("list", name="Changes since the snapshot")
    expect(changes.get_by_role("button")).to_have_count(2)
    expect(changes.get_by_role("button", name="extra.py added since")).to_be_visible()
    changes.get_by_role("button", name="main.py changed").click()
    diff = history.get_by_test_id("diff-view")
    expect(diff.locator(".cm-mergeView")).to_be_visible()
    expect(diff).to_contain_text("print('one')")
    expect(diff).to_contain_text("print('two')")
    ide.screenshot("history-snapshot-compare")

    # Download the snapshot: a zip of its files as they were, not as they are now.
    with page.expect_download() as download_info:
        history.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(" - Before my change.zip")
    archive = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    assert {name: archive.read(name) for name in archive.namelist()} == {
        "data.txt": b"kept\n",
        "main.py": b"print('one')\n",
    }

    # Restore the whole workspace (after confirming), then it holds exactly the snapshot.
    history.get_by_role("button", name="Restore workspace…").click()
    confirm = history.get_by_role("alertdialog", name="Restore the workspace")
    expect(confirm).to_contain_text("you can undo this")
    confirm.get_by_role("button", name="Restore", exact=True).click()
    expect(history.get_by_text("The workspace was restored.")).to_be_visible()
    assert ide.read_file("main.py") == "print('one')\n"
    expect(ide.tree_item("extra.py")).to_have_count(0)
    # The state before is listed as an automatic snapshot: the restore can be undone.
    expect(
        history.get_by_role("list", name="Snapshots").get_by_text("automatic", exact=False)
    ).to_have_count(1)


def test_file_history_diff_and_restore(ide: Ide) -> None:
    page = ide.page
    ide.put_file("app.py", "value = 1\n")
    ide.open_workspace()
    ide.open_file("app.py")
    page.keyboard.press("Control+End")
    page.keyboard.type("value = 2\n")
    page.keyboard.press("Control+s")
    expect(page.get_by_text("Saved", exact=True)).to_be_visible()

    page.get_by_role("button", name="History", exact=True).click()
    history = page.get_by_role("complementary", name="History")
    versions = history.get_by_role("list", name="Versions").get_by_role("button")
    expect(versions).to_have_count(2)
    expect(versions.nth(0)).to_contain_text("Editor")
    expect(versions.nth(1)).to_contain_text("API")
    versions.nth(1).click()
    diff = history.get_by_test_id("diff-view")
    expect(diff.locator(".cm-mergeView")).to_be_visible()
    expect(diff).to_contain_text("value = 2")
    ide.screenshot("history-file-diff")

    history.get_by_role("button", name="Restore this version").click()
    expect(versions).to_have_count(3)
    expect(versions.nth(0)).to_contain_text("Restore")
    assert ide.read_file("app.py") == "value = 1\n"
    # The open tab shows the restored text.
    editor = page.get_by_role("textbox", name="Editor: app.py")
    expect(editor).not_to_contain_text("value = 2")
    expect(editor).to_contain_text("value = 1")


def test_a_deleted_file_is_brought_back(ide: Ide) -> None:
    page = ide.page
    ide.put_file("precious.py", "answer = 42\n")
    ide.open_workspace()
    # The terminal takes the focus when it connects: let it, then use the tree.
    page.get_by_test_id("terminal-status").get_by_text("Connected").wait_for()
    ide.tree_item("precious.py").focus()
    page.keyboard.press("Delete")
    dialog = page.get_by_role("dialog", name="Delete file?")
    expect(dialog).to_contain_text("You can bring it back from History")
    dialog.get_by_role("button", name="Delete").click()
    expect(ide.tree_item("precious.py")).to_have_count(0)

    page.get_by_role("button", name="History", exact=True).click()
    history = page.get_by_role("complementary", name="History")
    history.get_by_role("tab", name="Deleted files").click()
    history.get_by_role("button", name="Restore this file: precious.py").click()
    expect(ide.tree_item("precious.py")).to_be_visible()
    assert ide.read_file("precious.py") == "answer = 42\n"
    expect(history.get_by_text("No deleted files with history.")).to_be_visible()
