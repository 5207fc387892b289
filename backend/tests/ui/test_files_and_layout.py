"""File tree operations, the workspace zip, remembered layout, and the dark theme."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Browser, FilePayload, expect

from tests.servers import SandpitServer
from tests.ui.conftest import Ide, signed_in


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


# Drops a folder on the element `target`, as the desktop would: a DataTransfer
# whose one item is a folder entry (the File and Directory Entries API). A
# page cannot make real entries, so the folder is built from plain objects of
# the same shape, with `readEntries` answering in batches of two, as browsers
# do in batches of 100.
DROP_FOLDER = """
async (target, [name, tree]) => {
  const file = (path, content) =>
    ({ isFile: true, isDirectory: false, name: path.split("/").pop(), fullPath: "/" + path,
       file: (ok) => ok(new File([content], path.split("/").pop())) });
  const folder = (path) => {
    const prefix = path + "/";
    const children = [];
    const inside = tree.filter(([p]) => p.startsWith(prefix));
    for (const child of new Set(inside.map(([p]) => p.slice(prefix.length).split("/")[0]))) {
      const full = prefix + child;
      const entry = tree.find(([p]) => p === full);
      children.push(entry && entry[1] !== null ? file(full, entry[1]) : folder(full));
    }
    const createReader = () => {
      let at = 0;
      return { readEntries: (ok) => { ok(children.slice(at, at + 2)); at += 2; } };
    };
    return { isFile: false, isDirectory: true, name: path.split("/").pop(), fullPath: "/" + path,
      createReader };
  };
  const root = folder(name);
  const data = new DataTransfer();
  data.items.add(new File([""], name));
  DataTransferItem.prototype.webkitGetAsEntry = function () { return root; };
  const init = { bubbles: true, cancelable: true, dataTransfer: data };
  target.dispatchEvent(new DragEvent("dragenter", init));
  target.dispatchEvent(new DragEvent("dragover", init));
  // Let React render the drop target before the drop reads it.
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  target.dispatchEvent(new DragEvent("drop", init));
}
"""
SAW_PROGRESS = """
window.sawProgress = false;
new MutationObserver(() => {
  window.sawProgress ||= document.querySelector('progress[aria-label="Upload progress"]') !== null;
}).observe(document.body, { childList: true, subtree: true });
"""


def test_drop_a_folder_onto_a_folder(ide: Ide) -> None:
    page = ide.page
    ide.put_file("data/keep.txt", "kept\n")
    ide.open_workspace()
    page.evaluate(SAW_PROGRESS)
    big = "x" * (1024 * 1024 + 10)
    # [path, content], or [path, None] for an (empty) folder.
    tree = [
        ["project/main.py", "print('hi')\n"],
        ["project/big.txt", big],
        ["project/pkg/util.py", "X = 1\n"],
        ["project/pkg/deep/more.py", "Y = 2\n"],
        ["project/empty", None],
    ]
    ide.tree_item("data").evaluate(DROP_FOLDER, ["project", tree])

    failures = page.get_by_test_id("upload-failures")
    expect(failures).to_contain_text(re.compile(r"project/big\.txt: .*1 MiB"))
    expect(failures.get_by_role("listitem")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Files").get_by_role("alert")).to_contain_text(
        "1 item not uploaded (3 files uploaded to data)"
    )
    # The dropped folder is shown open, in the folder it was dropped on.
    for path in ("data/project/main.py", "data/project/pkg", "data/project/empty"):
        expect(ide.tree_item(path)).to_be_visible()
    expect(ide.tree_item("data/project/big.txt")).to_have_count(0)
    assert ide.read_file("data/project/pkg/util.py") == "X = 1\n"
    assert ide.read_file("data/project/pkg/deep/more.py") == "Y = 2\n"
    assert page.evaluate("window.sawProgress")
    ide.screenshot("folder-drop")


def test_upload_a_folder_with_the_button(ide: Ide, tmp_path: Path) -> None:
    page = ide.page
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('app')\n")
    (project / "README.md").write_text("# project\n")
    (project / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    ide.open_workspace()

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload folder").click()
    chooser.value.set_files(project)

    expect(ide.tree_item("project/src")).to_be_visible()
    expect(ide.tree_item("project/README.md")).to_be_visible()
    expect(page.get_by_test_id("upload-failures")).to_contain_text(
        re.compile(r"project/logo\.png: .*text", re.IGNORECASE)
    )
    assert ide.read_file("project/src/app.py") == "print('app')\n"


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
    with signed_in(ui_server, browser, "dark", color_scheme="dark") as ide:
        ide.put_file("main.py", "for i in range(3):\n    print(i)  # dark\n")
        ide.open_workspace()
        ide.page.get_by_role("textbox", name="Editor: main.py").wait_for()
        ide.run_and_wait("ok")
        background = ide.page.evaluate("getComputedStyle(document.body).backgroundColor")
        inside = background[background.index("(") + 1 : -1]
        channels = [float(part) for part in inside.split(",")[:3]]
        assert max(channels) < 80, background
        ide.screenshot("ide-dark")


def test_run_time_limit_is_used_and_remembered(ide: Ide) -> None:
    page = ide.page
    ide.put_file("slow.py", "import time\n\nprint('start', flush=True)\ntime.sleep(60)\n")
    ide.open_workspace()
    ide.open_file("slow.py")
    limit = page.get_by_label("Run time limit (seconds)")
    expect(limit).to_have_value("")
    # The server's own default and maximum, from GET /api/limits (a test
    # server runs with the defaults).
    expect(limit).to_have_attribute("placeholder", "30")
    expect(limit).to_have_attribute("max", "300")
    limit.fill("5000")
    limit.blur()
    expect(limit).to_have_value("300")  # what a run would get
    limit.fill("2")
    block = ide.run_and_wait("timeout", timeout_s=30)
    expect(block).to_contain_text("start")

    # Saved with the rest of the IDE's state (at the latest when the page is left).
    page.reload()
    expect(page.get_by_label("Run time limit (seconds)")).to_have_value("2")


def test_reopening_a_workspace_from_the_list(ide: Ide) -> None:
    # The first visit is a page load (its data asked for early); the second
    # comes through the app's own navigation and must ask the server again.
    page = ide.page
    ide.put_file("main.py", "print('again')\n")
    ide.open_workspace()
    expect(page.get_by_role("textbox", name="Editor: main.py")).to_contain_text("again")
    page.get_by_role("link", name="Workspaces").click()
    page.get_by_role("link", name="demo").click()
    expect(page.get_by_role("textbox", name="Editor: main.py")).to_contain_text("again")


def test_odd_names_show_escaped_in_the_tree_and_can_be_deleted(ide: Ide) -> None:
    # User code makes names with a terminal escape and a bidi override; the
    # tree shows them escaped (plain ASCII, nothing hidden or reordered),
    # marked, and deletes them like any file.
    code = "for name in ('\\x1b[31mred', 'invoice\\u202efdp.exe'):\n    open(name, 'w').close()\n"
    run = ide.api("POST", f"/api/workspaces/{ide.workspace_id}/runs?wait=true", data={"code": code})
    assert run["status"] == "ok", run
    ide.open_workspace()
    page = ide.page
    for escaped in ("\\u001b[31mred", "invoice\\u202efdp.exe"):
        row = ide.tree_item(escaped)
        expect(row).to_be_visible()
        expect(row).to_contain_text(escaped)
        expect(row).to_have_attribute("aria-label", re.compile(r"\(escaped name\)"))
    assert "\u202e" not in page.locator('[role="tree"]').inner_text()

    ide.tree_item("invoice\\u202efdp.exe").focus()
    page.keyboard.press("Delete")
    dialog = page.get_by_role("dialog", name="Delete file?")
    dialog.get_by_role("button", name="Delete").click()
    expect(ide.tree_item("invoice\\u202efdp.exe")).to_have_count(0)
    expect(ide.tree_item("\\u001b[31mred")).to_be_visible()
    listed = ide.api("GET", f"/api/workspaces/{ide.workspace_id}/files")
    assert [entry["path"] for entry in listed] == ["\\u001b[31mred"]
