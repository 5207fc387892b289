"""Small helpers for history tests: read a file's versions, wait for one to appear."""

from __future__ import annotations

import time
from typing import Any

import httpx


def versions(client: httpx.Client, ws: str, path: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/workspaces/{ws}/history", params={"path": path})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def content(client: httpx.Client, ws: str, version_id: str) -> bytes:
    answer = client.get(f"/api/workspaces/{ws}/history/{version_id}")
    assert answer.status_code == 200, answer.text
    return answer.content


def wait_for_version(
    client: httpx.Client, ws: str, path: str, expected: bytes, timeout: float = 30
) -> list[dict[str, Any]]:
    """Poll the file's history until its newest version holds `expected`; return it all."""
    deadline = time.monotonic() + timeout
    while True:
        found = versions(client, ws, path)
        if found and content(client, ws, found[0]["id"]) == expected:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no version of {path} holding {expected!r}: {found}")
        time.sleep(0.2)


def put(client: httpx.Client, ws: str, path: str, data: bytes, source: str = "api") -> None:
    answer = client.put(
        f"/api/workspaces/{ws}/files/{path}", content=data, params={"source": source}
    )
    assert answer.status_code in (200, 201), answer.text


def files(client: httpx.Client, ws: str) -> dict[str, bytes]:
    """Every file of the workspace with its content."""
    listed = client.get(f"/api/workspaces/{ws}/files")
    assert listed.status_code == 200, listed.text
    return {
        e["path"]: client.get(f"/api/workspaces/{ws}/files/{e['path']}").content
        for e in listed.json()
    }
