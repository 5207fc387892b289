"""Serving the statically exported Next.js app on the same port as the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Sandpit</title>
<body style="font-family:system-ui;margin:3rem">
<h1>Sandpit</h1><p>The API is running, but the web app has not been built.
Run <code>make run</code> from the repository to build and serve it.</p>
<p><a href="/api/docs">API documentation</a></p></body>"""

# The page itself is ours, but it shows user content: keep it from loading
# scripts or frames from anywhere else.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class _ExportedApp(StaticFiles):
    """Static files with `index.html` for folders and `404.html` for misses.

    Paths under `/api` never reach here: the API routes are matched first.
    """

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if path.startswith("_next/static/"):
            # Content-hashed file names: safe to cache for ever.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_frontend(app: FastAPI, directory: Path) -> None:
    """Serve `directory` at `/`, or a page explaining how to build it if it is missing."""
    if (directory / "index.html").is_file():
        app.mount("/", _ExportedApp(directory=directory, html=True), name="frontend")
        return

    @app.get("/", include_in_schema=False)
    async def not_built() -> HTMLResponse:
        return HTMLResponse(_NOT_BUILT, headers=SECURITY_HEADERS)
