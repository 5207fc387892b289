"""The web app is served by the API server on the same port."""

from __future__ import annotations

import httpx

from sandpit.config import REPO_DIR


def test_index_and_pages_are_served(anon: httpx.Client) -> None:
    index = anon.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["x-frame-options"] == "DENY"
    if not (REPO_DIR / "frontend" / "out" / "index.html").is_file():
        assert "has not been built" in index.text
        return
    assert "Sandpit" in index.text
    login = anon.get("/login/")
    assert login.status_code == 200
    assert "<form" in login.text or "__next" in login.text


def test_static_assets_are_cached_for_ever(anon: httpx.Client) -> None:
    chunks = REPO_DIR / "frontend" / "out" / "_next" / "static" / "chunks"
    scripts = sorted(chunks.glob("*.js")) if chunks.is_dir() else []
    if not scripts:
        assert anon.get("/_next/static/chunks/missing.js").status_code == 404
        return
    response = anon.get(f"/_next/static/chunks/{scripts[0].name}")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]


def test_unknown_page_is_404(anon: httpx.Client) -> None:
    assert anon.get("/no-such-page/").status_code == 404
