"""The OpenAPI document's promises that Schemathesis relies on, stated directly."""

from __future__ import annotations

import httpx

from tests.conftest import User


def test_a_method_a_path_does_not_serve_answers_405_naming_those_it_does(user: User) -> None:
    workspace = user.workspace()
    for method, path, allowed in [
        ("PUT", "/api/health", "GET"),
        ("OPTIONS", f"/api/workspaces/{workspace}", "DELETE, GET, PATCH"),
        ("POST", f"/api/workspaces/{workspace}/files/a.py", "DELETE, GET, PUT"),
        ("HEAD", "/api/workspaces", "GET, POST"),
    ]:
        response = user.client.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allowed, (method, path)
    assert user.client.get("/api/no-such-thing").status_code == 404


def test_the_validation_error_declared_is_the_one_sent(anon: httpx.Client) -> None:
    document = anon.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    declared = document["paths"]["/api/auth/register"]["post"]["responses"]["422"]
    assert declared["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationErrorOut"
    }
    sent = anon.post("/api/auth/register", json={"username": "ada"})
    assert sent.status_code == 422
    body = sent.json()
    assert set(body) == set(schemas["ValidationErrorOut"]["properties"])
    assert body["errors"][0]["loc"] == ["body", "password"]


def test_errors_from_dependencies_are_declared(anon: httpx.Client) -> None:
    paths = anon.get("/api/openapi.json").json()["paths"]
    # Signed in, owned workspace, sandbox services, a body: 401/403, 404, 503, 400/413/422.
    create_run = paths["/api/workspaces/{workspace_id}/runs"]["post"]["responses"]
    assert {"400", "401", "403", "404", "413", "422", "429", "503"} <= set(create_run)
    assert create_run["429"]["headers"]["Retry-After"]["required"] is True
    # A read needs no origin check (429: the request rate, on every operation);
    # the health check needs nothing at all and is never refused.
    assert set(paths["/api/workspaces"]["get"]["responses"]) == {"200", "401", "429"}
    assert set(paths["/api/health"]["get"]["responses"]) == {"200"}
    operations = [(p, m, op) for p, ops in paths.items() for m, op in ops.items()]
    unlimited = {(p, m) for p, m, op in operations if "429" not in op["responses"]}
    assert unlimited == {("/api/health", "get"), ("/metrics", "get")}
    rate = paths["/api/auth/register"]["post"]["responses"]["429"]["description"]
    assert "sign-ups" in rate
    assert "USER_REQUESTS_PER_S" in rate
    links = paths["/api/workspaces"]["post"]["responses"]["201"]["links"]
    assert links["ListFiles"]["parameters"] == {"workspace_id": "$response.body#/id"}
