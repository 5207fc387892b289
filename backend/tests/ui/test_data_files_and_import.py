"""Import by drag and drop, data files in the editor, hidden files (issue 13 items 5-6)."""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.servers import SandpitServer
from tests.ui.conftest import Ide
from tests.workspaces.data_samples import LATIN1_CSV, png

# Drops the file (name, base64 bytes) on `target`, as the desktop would.
DROP_FILE = """
([target, name, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type: "application/zip" }));
  const init = { bubbles: true, cancelable: true, dataTransfer: data };
  target.dispatchEvent(new DragEvent("dragenter", init));
  target.dispatchEvent(new DragEvent("dragover", init));
  target.dispatchEvent(new DragEvent("drop", init));
}
"""


@pytest.fixture(scope="module")
def ui_server() -> Iterator[SandpitServer]:
    """The web app on a server whose admin allowed binary data files."""
    server = SandpitServer(allowed_data_formats='["all"]')
    server.start()
    yield server
    server.close()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _put_bytes(ide: Ide, path: str, data: bytes) -> None:
    ide.api("PUT", f"/api/workspaces/{ide.workspace_id}/files/{path}", data=data)


def test_import_a_zip_by_drag_and_drop(ide: Ide) -> None:
    page = ide.page
    page.goto(f"{ide.server.url}/")
    zone = page.get_by_test_id("import-zip-drop")
    expect(zone).to_be_visible()
    body = _zip({"main.py": b"print('imported')\n", "data/plot.png": png()})
    zone.evaluate(
        "(target, args) => (" + DROP_FILE + ")([target, ...args])",
        ["project.zip", base64.b64encode(body).decode()],
    )
    row = page.get_by_role("link", name="project")
    expect(row).to_be_visible()
    listing = ide.api("GET", "/api/workspaces")
    imported = next(w for w in listing if w["name"] == "project")
    files = ide.api("GET", f"/api/workspaces/{imported['id']}/files")
    assert sorted(f["path"] for f in files) == ["data/plot.png", "main.py"]

    # A file that is not a zip is refused with the server's sentence; nothing is made.
    zone.evaluate(
        "(target, args) => (" + DROP_FILE + ")([target, ...args])",
        ["notes.zip", base64.b64encode(b"just text").decode()],
    )
    expect(zone.get_by_role("alert")).to_have_text("The upload is not a zip file.")
    assert len(ide.api("GET", "/api/workspaces")) == 2
    ide.screenshot("import-zip")


def test_a_csv_opens_as_a_table(ide: Ide) -> None:
    page = ide.page
    ide.put_file("scores.csv", 'name,score\nada,"9,5"\nbob,7\n')
    _put_bytes(ide, "people.csv", LATIN1_CSV)
    ide.open_workspace()

    ide.tree_item("scores.csv").click()
    table = page.get_by_test_id("csv-table")
    expect(table.get_by_role("columnheader")).to_have_text(["name", "score"])
    expect(table.get_by_role("cell", name="9,5")).to_be_visible()
    ide.screenshot("csv-table")
    # The way back to the text, and to the table again.
    table.get_by_role("button", name="Edit as text").click()
    expect(page.get_by_role("textbox", name="Editor: scores.csv")).to_contain_text("ada")
    page.get_by_role("button", name="View as table").click()
    expect(page.get_by_test_id("csv-table")).to_be_visible()

    # A Latin-1 CSV (a data file) is a table too, never text in the editor.
    ide.tree_item("people.csv").click()
    latin = page.get_by_test_id("csv-table")
    expect(latin.get_by_role("cell", name="Zürich")).to_be_visible()
    expect(page.get_by_role("textbox", name="Editor: people.csv")).to_have_count(0)


def test_an_image_opens_as_an_image(ide: Ide) -> None:
    page = ide.page
    _put_bytes(ide, "plot.png", png(8, 6))
    ide.open_workspace()
    ide.tree_item("plot.png").click()
    image = page.get_by_test_id("image-view").get_by_role("img", name="plot.png")
    expect(image).to_be_visible()
    page.wait_for_function(
        "document.querySelector('[data-testid=image-view] img')?.naturalWidth === 8"
    )
    expect(page.get_by_role("textbox", name="Editor: plot.png")).to_have_count(0)
    ide.screenshot("image-view")


def test_hidden_files_behind_a_toggle(ide: Ide) -> None:
    page = ide.page
    ide.put_file("main.py", "print(1)\n")
    ide.put_file(".local/lib/site.py", "installed = 1\n")
    ide.open_workspace()
    expect(ide.tree_item("main.py")).to_be_visible()
    expect(ide.tree_item(".local")).to_have_count(0)
    hidden = page.get_by_role("checkbox", name="Show hidden files")
    hidden.check()
    expect(ide.tree_item(".local")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download all as zip (with hidden files)").click()
    archive = zipfile.ZipFile(io.BytesIO(download_info.value.path().read_bytes()))
    assert sorted(archive.namelist()) == [".local/lib/site.py", "main.py"]
    hidden.uncheck()
    expect(ide.tree_item(".local")).to_have_count(0)


def test_import_a_zip_into_the_open_workspace(ide: Ide) -> None:
    page = ide.page
    ide.put_file("main.py", "old\n")
    ide.put_file("keep.py", "keep\n")
    ide.open_workspace()
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import zip").click()
    body = _zip({"main.py": b"new\n", "lib/util.py": b"u = 1\n"})
    chooser.value.set_files(
        files=[{"name": "update.zip", "mimeType": "application/zip", "buffer": body}]
    )
    expect(page.get_by_text("Imported 2 files from update.zip.")).to_be_visible()
    expect(ide.tree_item("lib")).to_be_visible()
    assert ide.read_file("main.py") == "new\n"
    assert ide.read_file("keep.py") == "keep\n"
