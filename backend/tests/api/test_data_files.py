"""Binary data files through the file API (issue 13 item 6), on a server that allows them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import User
from tests.servers import SandpitServer
from tests.workspaces.data_samples import ELF, HTML, SAMPLES, SVG

MakeUser = Callable[[SandpitServer], User]
SANDBOX_CSP = "default-src 'none'; sandbox"
SERVED_AS = {
    "text": "text/plain; charset=windows-1252",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.file",
    "npy": "application/x-npy",
    "npz": "application/x-npz",
    "sqlite": "application/vnd.sqlite3",
    "zip": "application/zip",
}


@pytest.fixture(scope="module")
def data_server() -> Iterator[SandpitServer]:
    server = SandpitServer(allowed_data_formats='["all"]')
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def images_only_server() -> Iterator[SandpitServer]:
    server = SandpitServer(allowed_data_formats='["png", "jpeg"]')
    server.start()
    yield server
    server.close()


@pytest.mark.parametrize("fmt", list(SAMPLES))
def test_each_allowed_format_is_stored_and_served_safely(
    fmt: str, data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    name, data = SAMPLES[fmt]
    url = f"/api/workspaces/{ws}/files/{name}"
    # By content: the same bytes under a name that claims nothing are accepted too.
    assert user.client.put(url, content=data).status_code == 201
    assert user.client.put(f"/api/workspaces/{ws}/files/upload", content=data).status_code == 201
    served = user.client.get(url)
    assert served.content == data
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == SANDBOX_CSP
    assert served.headers["content-disposition"].startswith("inline; filename*=UTF-8''")
    assert served.headers["content-type"] == SERVED_AS[fmt]
    download = user.client.get(url, params={"download": True})
    assert download.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    ("name", "data"),
    [("plot.png", ELF), ("program", ELF), ("report.pdf", HTML), ("image.png", SVG)],
)
def test_renamed_executable_or_page_is_refused(
    name: str, data: bytes, data_server: SandpitServer, make_user: MakeUser
) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    refused = user.client.put(f"/api/workspaces/{ws}/files/{name}", content=data)
    assert refused.status_code == 415
    assert "Files may be Python or UTF-8 text, or: CSV or text" in refused.json()["detail"]
    assert user.client.get(f"/api/workspaces/{ws}/files").json() == []


def test_only_the_listed_formats(images_only_server: SandpitServer, make_user: MakeUser) -> None:
    user = make_user(images_only_server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files"
    assert user.client.put(f"{url}/p.png", content=SAMPLES["png"][1]).status_code == 201
    refused = user.client.put(f"{url}/paper.pdf", content=SAMPLES["pdf"][1])
    assert refused.status_code == 415
    assert refused.json()["detail"].endswith("Files may be Python or UTF-8 text, or: PNG, JPEG.")


def test_svg_is_never_served_as_an_image(data_server: SandpitServer, make_user: MakeUser) -> None:
    user = make_user(data_server)
    ws = user.workspace()
    url = f"/api/workspaces/{ws}/files/logo.svg"
    assert user.client.put(url, content=SVG).status_code == 201  # it is UTF-8 text
    served = user.client.get(url)
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert served.headers["content-security-policy"] == SANDBOX_CSP
    assert served.headers["x-content-type-options"] == "nosniff"


def test_off_by_default(user: User) -> None:
    ws = user.workspace()
    refused = user.client.put(f"/api/workspaces/{ws}/files/plot.png", content=SAMPLES["png"][1])
    assert refused.status_code == 415
    assert "Only text files" in refused.json()["detail"]
