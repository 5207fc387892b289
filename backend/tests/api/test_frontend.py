"""The web app is served by the API server on the same port."""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandpit.config import REPO_DIR
from sandpit.frontend import MAX_ASSET_BYTES, accepted_encodings
from tests.servers import SandpitServer, public_tmp

APP_DIR = REPO_DIR / "frontend" / "out"


@pytest.fixture(scope="module")
def built_app() -> Path:
    """The built web app the server serves; these tests fail (never pass weaker) without it."""
    if not (APP_DIR / "index.html").is_file():
        pytest.fail(f"the web app is not built in {APP_DIR}: `make frontend` (make test does)")
    return APP_DIR


def test_index_and_pages_are_served(anon: httpx.Client, built_app: Path) -> None:
    index = anon.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["x-frame-options"] == "DENY"
    assert index.text == (built_app / "index.html").read_text()
    assert "has not been built" not in index.text
    login = anon.get("/login/")
    assert login.status_code == 200
    assert "<form" in login.text or "__next" in login.text


def test_static_assets_are_cached_for_ever(anon: httpx.Client, built_app: Path) -> None:
    scripts = sorted((built_app / "_next" / "static" / "chunks").glob("*.js"))
    assert scripts, "the built app has no script chunks"
    response = anon.get(f"/_next/static/chunks/{scripts[0].name}")
    assert response.status_code == 200
    assert response.content == scripts[0].read_bytes()
    assert "immutable" in response.headers["cache-control"]
    assert anon.get("/_next/static/chunks/missing.js").status_code == 404


def test_unknown_page_is_404(anon: httpx.Client) -> None:
    assert anon.get("/no-such-page/").status_code == 404


SCRIPT = b"console.log('hello, sandpit');\n" * 200
BIG = b"x" * (MAX_ASSET_BYTES + 1)


@pytest.fixture(scope="module")
def export_dir() -> Iterator[Path]:
    """A small export: a script with both compressed copies, a style sheet, a large script."""
    root = public_tmp("sandpit-export-")
    (root / "index.html").write_text("<!doctype html><title>Sandpit</title>")
    chunks = root / "_next" / "static" / "chunks"
    chunks.mkdir(parents=True)
    (chunks / "app.js").write_bytes(SCRIPT)
    (chunks / "app.js.gz").write_bytes(gzip.compress(SCRIPT))
    # httpx cannot decode Brotli here, so the tests read the stored bytes as they are.
    (chunks / "app.js.br").write_bytes(b"brotli copy")
    (chunks / "plain.css").write_text("body { color: red }")
    (chunks / "big.js").write_bytes(BIG)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def exported(export_dir: Path) -> Iterator[httpx.Client]:
    """A client of a real server that serves `export_dir` as its web app."""
    server = SandpitServer(frontend_dir=str(export_dir))
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.close()


@pytest.mark.parametrize(
    ("accept", "encoding", "body"),
    [
        ("gzip, deflate, br, zstd", "br", b"brotli copy"),
        ("gzip", "gzip", SCRIPT),  # decoded by httpx
        ("br;q=0, gzip;q=0.5", "gzip", SCRIPT),
        ("identity", None, SCRIPT),
        ("", None, SCRIPT),
    ],
)
def test_static_assets_are_sent_as_their_stored_compressed_copy(
    exported: httpx.Client, accept: str, encoding: str | None, body: bytes
) -> None:
    response = exported.get("/_next/static/chunks/app.js", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == encoding
    assert response.content == body
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_stored_copy_answers_not_modified_to_its_own_etag(exported: httpx.Client) -> None:
    first = exported.get("/_next/static/chunks/app.js", headers={"Accept-Encoding": "br"})
    again = exported.get(
        "/_next/static/chunks/app.js",
        headers={"Accept-Encoding": "br", "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    plain = exported.get("/_next/static/chunks/app.js", headers={"Accept-Encoding": "identity"})
    assert plain.headers["etag"] != first.headers["etag"]


def test_files_without_copies_and_pages_are_sent_as_they_are(exported: httpx.Client) -> None:
    css = exported.get("/_next/static/chunks/plain.css", headers={"Accept-Encoding": "br, gzip"})
    assert css.status_code == 200
    assert "content-encoding" not in css.headers
    assert css.text == "body { color: red }"
    page = exported.get("/", headers={"Accept-Encoding": "br, gzip"})
    assert page.status_code == 200
    assert "content-encoding" not in page.headers
    assert "immutable" not in page.headers.get("cache-control", "")
    missing = exported.get("/_next/static/chunks/none.js", headers={"Accept-Encoding": "br"})
    assert missing.status_code == 404


def test_assets_are_kept_in_memory_once_read(exported: httpx.Client, export_dir: Path) -> None:
    url = "/_next/static/chunks/app.js"
    first = exported.get(url, headers={"Accept-Encoding": "gzip"})
    (export_dir / "_next" / "static" / "chunks" / "app.js.gz").unlink()
    again = exported.get(url, headers={"Accept-Encoding": "gzip"})
    assert again.status_code == 200
    assert again.headers["content-encoding"] == "gzip"
    assert again.content == first.content == SCRIPT
    head = exported.head(url, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == first.headers["content-length"]


def test_an_asset_too_large_for_memory_is_sent_from_disk(exported: httpx.Client) -> None:
    response = exported.get("/_next/static/chunks/big.js", headers={"Accept-Encoding": "br"})
    assert response.status_code == 200
    assert response.content == BIG
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-frame-options"] == "DENY"


def test_accepted_encodings() -> None:
    assert accepted_encodings("gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert accepted_encodings("br;q=0, GZIP;q=0.8, identity ; q=1") == {"gzip", "identity"}
    assert accepted_encodings("br;q=0.0, gzip;q=nonsense") == set()
    assert accepted_encodings("") == set()


def test_pages_carry_a_strict_csp_that_lists_their_inline_scripts(
    anon: httpx.Client, built_app: Path
) -> None:
    for page, file in (("/", "index.html"), ("/workspace/", "workspace/index.html")):
        response = anon.get(page)
        policy = response.headers["content-security-policy"]
        directives = dict(
            (part.split()[0], part.split()[1:]) for part in policy.split("; ") if part
        )
        scripts = directives["script-src"]
        assert scripts[0] == "'self'"
        assert "'unsafe-inline'" not in scripts
        assert "'unsafe-eval'" not in scripts
        html = (built_app / file).read_bytes()
        inline = [
            body
            for attributes, body in re.findall(rb"<script\b([^>]*)>(.*?)</script>", html, re.S)
            if body and b"src=" not in attributes
        ]
        assert inline, "the export has inline scripts (Next.js's bootstrap)"
        expected = {
            "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
            for body in inline
        }
        assert set(scripts[1:]) == expected
        assert directives["object-src"] == ["'none'"]
        assert directives["base-uri"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["img-src"] == ["'self'", "blob:", "data:"]
    # Not a page: a script asset has no policy of its own.
    chunk = sorted((built_app / "_next" / "static" / "chunks").glob("*.js"))[0]
    assert "content-security-policy" not in anon.get(f"/_next/static/chunks/{chunk.name}").headers
    assert "content-security-policy" in anon.get("/no-such-page/").headers


def test_a_rebuilt_page_gets_a_new_policy(exported: httpx.Client, export_dir: Path) -> None:
    page = export_dir / "index.html"
    original = page.read_bytes()
    first = exported.get("/").headers["content-security-policy"]
    try:
        page.write_bytes(original + b"<script>window.rebuilt = 1</script>")
        later = time.time_ns() + 10**9  # a new mtime even on a coarse clock
        os.utime(page, ns=(later, later))
        second = exported.get("/").headers["content-security-policy"]
    finally:
        page.write_bytes(original)
    digest = base64.b64encode(hashlib.sha256(b"window.rebuilt = 1").digest()).decode()
    assert f"'sha256-{digest}'" not in first
    assert f"'sha256-{digest}'" in second
