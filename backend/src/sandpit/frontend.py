"""Serving the statically exported Next.js app on the same port as the API.

Every page goes out with a strict Content-Security-Policy
(`content_security_policy`): scripts only from this origin or, for the
inline ones the static export writes (Next.js's bootstrap and its flight
data), by the SHA-256 of their exact text, computed from the exported HTML
when it is first served; no 'unsafe-inline' and no 'unsafe-eval' for
scripts, no plugins, no framing, no <base>. Styles may be inline (CodeMirror
and xterm.js write theirs at run time), images may be blob: or data: URLs
(previews of binary files and plots made in the browser).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
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


# The build stores compressed copies beside the files under _next/static
# (frontend/scripts/compress.mjs): the coding and suffix of each, best first.
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))
STATIC_ASSETS = "_next/static/"
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
# Assets are kept in memory once read, up to these sizes (the export is a few MiB).
MAX_ASSET_BYTES = 4 * 2**20
MAX_CACHED_BYTES = 64 * 2**20


# The policy's parts beside script-src (see the module docstring).
_POLICY = (
    "default-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)
_INLINE_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)
_SRC_ATTRIBUTE = re.compile(rb"\ssrc\s*=", re.IGNORECASE)
# The page shown when the app is not built: no script at all, one inline style.
NOT_BUILT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def content_security_policy(html: bytes) -> str:
    """The policy for one exported page: its inline scripts allowed by hash, nothing else inline.

    A script element with a `src` is allowed by 'self' (its text is ignored);
    each other one by the SHA-256 of its text exactly as written, which is
    what the browser hashes.
    """
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
            for attributes, body in _INLINE_SCRIPT.findall(html)
            if body and not _SRC_ATTRIBUTE.search(attributes)
        }
    )
    return "; ".join([" ".join(["script-src 'self'", *hashes]), *_POLICY])


def accepted_encodings(header: str) -> set[str]:
    """The content codings an `Accept-Encoding` header accepts (any but those with `q=0`)."""
    accepted = set()
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        if name and _quality(params) > 0:
            accepted.add(name.lower())
    return accepted


def _quality(params: list[str]) -> float:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


@dataclass(frozen=True)
class _Asset:
    body: bytes
    headers: dict[str, str]


class _ExportedApp(StaticFiles):
    """Static files with `index.html` for folders and `404.html` for misses.

    Files under `_next/static/` are named by their content, so they are cached
    for ever, served from memory once read, and sent as their stored Brotli or
    gzip copy to a browser that accepts it. Paths under `/api` never reach
    here: the API routes are matched first.
    """

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, html=True)
        # (path, coding) -> the asset; None: that compressed copy does not exist.
        self._assets: dict[tuple[str, str | None], _Asset | None] = {}
        self._cached_bytes = 0
        # page file -> ((mtime_ns, size) when hashed, its policy); pages are few.
        self._policies: dict[str, tuple[tuple[int, int], str]] = {}

    async def get_response(self, path: str, scope: Scope) -> Response:
        asset = path.startswith(STATIC_ASSETS)
        response = None
        if asset and scope["method"] in ("GET", "HEAD"):
            response = await self._asset_response(path, scope)
        if response is None:
            response = await super().get_response(path, scope)
            if asset and response.status_code == 200:  # one too large to keep in memory
                response.headers.update(ASSET_HEADERS)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if isinstance(response, FileResponse) and response.media_type == "text/html":
            policy = await anyio.to_thread.run_sync(self._policy, str(response.path))
            response.headers["Content-Security-Policy"] = policy
        return response

    def _policy(self, page: str) -> str:
        """The page's policy, hashed again whenever the file changes (a rebuild)."""
        found = os.stat(page)
        version = (found.st_mtime_ns, found.st_size)
        cached = self._policies.get(page)
        if cached is not None and cached[0] == version:
            return cached[1]
        with open(page, "rb") as file:
            policy = content_security_policy(file.read())
        self._policies[page] = (version, policy)
        return policy

    async def _asset_response(self, path: str, scope: Scope) -> Response | None:
        """`path` (or the best copy of it the client accepts) from memory; None if not cached."""
        request = Headers(scope=scope)
        accepted = accepted_encodings(request.get("accept-encoding", ""))
        options = [
            (coding, path + suffix) for coding, suffix in PRECOMPRESSED if coding in accepted
        ]
        for coding, name in [*options, (None, path)]:
            asset = await self._asset(name, coding)
            if asset is None:
                continue
            headers = Headers(asset.headers)
            if self.is_not_modified(headers, request):
                return NotModifiedResponse(headers)
            return Response(asset.body, headers=asset.headers)
        return None

    async def _asset(self, path: str, coding: str | None) -> _Asset | None:
        """The file at `path` with its headers, read once; None if it is not there."""
        key = (path, coding)
        if key not in self._assets:
            asset = await anyio.to_thread.run_sync(self._read_asset, path, coding)
            if asset is None and coding is None:
                return None  # not cached: the plain lookup answers (and a rebuild may add it)
            if asset is not None and self._cached_bytes + len(asset.body) > MAX_CACHED_BYTES:
                return asset
            self._assets[key] = asset
            self._cached_bytes += 0 if asset is None else len(asset.body)
        return self._assets[key]

    def _read_asset(self, path: str, coding: str | None) -> _Asset | None:
        try:
            full_path, found = self.lookup_path(path)
        except (OSError, ValueError):  # a name too long, a NUL: the plain lookup answers
            return None
        if found is None or not stat.S_ISREG(found.st_mode) or found.st_size > MAX_ASSET_BYTES:
            return None
        with open(full_path, "rb") as file:
            body = file.read()
        # Type, length, ETag and Last-Modified as Starlette sends a file; mimetypes
        # takes "a.js.br" for JavaScript.
        headers = dict(FileResponse(full_path, stat_result=found).headers)
        headers.pop("accept-ranges", None)
        headers.update({"content-length": str(len(body)), **ASSET_HEADERS})
        if coding is not None:
            headers["Content-Encoding"] = coding
        return _Asset(body, headers)


def mount_frontend(app: FastAPI, directory: Path) -> None:
    """Serve `directory` at `/`, or a page explaining how to build it if it is missing."""
    if (directory / "index.html").is_file():
        app.mount("/", _ExportedApp(directory), name="frontend")
        return

    @app.get("/", include_in_schema=False)
    async def not_built() -> HTMLResponse:
        return HTMLResponse(
            _NOT_BUILT,
            headers={**SECURITY_HEADERS, "Content-Security-Policy": NOT_BUILT_POLICY},
        )
