"""Another user's workspace answers 404 on every endpoint, as if it did not exist.

The endpoints are taken from the server's own OpenAPI document, so a new
route under `/api/workspaces/{workspace_id}` is covered the day it is added.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import User

# A valid body for each endpoint that takes one, so that the request reaches
# the ownership check instead of failing validation.
BODIES: dict[tuple[str, str], dict[str, Any] | bytes] = {
    ("put", "/api/workspaces/{workspace_id}/files/{path}"): b"print(1)\n",
    ("patch", "/api/workspaces/{workspace_id}"): {"name": "stolen"},
    ("post", "/api/workspaces/{workspace_id}/folders"): {"path": "d"},
    ("post", "/api/workspaces/{workspace_id}/move"): {"from": "main.py", "to": "x.py"},
    ("post", "/api/workspaces/{workspace_id}/runs"): {"code": "print(1)"},
}


def workspace_endpoints(client: httpx.Client) -> list[tuple[str, str]]:
    """Every endpoint an owner reaches through a workspace id (the administrator's
    endpoints, which take one too, answer 403 to everyone else: tests/api/test_admin*)."""
    document = client.get("/api/openapi.json").json()
    return [
        (method, path)
        for path, operations in document["paths"].items()
        if "{workspace_id}" in path and not path.startswith("/api/admin/")
        for method in operations
    ]


def test_every_workspace_endpoint_hides_other_users_workspaces(
    user: User, other_user: User
) -> None:
    victim = other_user.workspace("private")
    other_user.client.put(f"/api/workspaces/{victim}/files/main.py", content=b"secret = 1\n")
    endpoints = workspace_endpoints(user.client)
    assert len(endpoints) >= 8

    for method, template in endpoints:
        url = template.replace("{workspace_id}", victim).replace("{path}", "main.py")
        body = BODIES.get((method, template))
        kwargs: dict[str, Any] = {}
        if isinstance(body, bytes):
            kwargs["content"] = body
        elif body is not None:
            kwargs["json"] = body
        response = user.client.request(method.upper(), url, **kwargs)
        assert response.status_code == 404, (method, template, response.text)
        assert response.json()["detail"] == "There is no such workspace."

    # Nothing changed for the owner.
    owner_view = other_user.client.get(f"/api/workspaces/{victim}")
    assert owner_view.json()["name"] == "private"
    content = other_user.client.get(f"/api/workspaces/{victim}/files/main.py").content
    assert content == b"secret = 1\n"


def test_unknown_workspace_ids_are_404(user: User) -> None:
    for bogus in ("0" * 32, "../../etc", "x" * 500, "%2e%2e"):
        response = user.client.get(f"/api/workspaces/{bogus}/files")
        assert response.status_code == 404, bogus
