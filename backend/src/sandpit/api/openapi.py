"""The OpenAPI document, made to match what the server answers.

FastAPI documents what a route returns and its own validation error; the
errors that come from our dependencies and middleware it cannot know. They
are derived here from each route's dependencies, so a route declares only
the errors its own code raises (`sandpit.api.errors.responses`):

- `current_user`: 401; and 403 for a method that changes state (a
  cookie-authenticated request from another origin is refused);
- `current_admin`: 403;
- `owned_workspace`: 404 (no such workspace, or another user's);
- `sandbox_manager`, `run_service`, `terminal_manager`: 503 where
  sandboxes cannot run;
- a request body: 400 (one FastAPI cannot parse) and 413 (`BodySizeLimit`);
- any parameter or body: 422 in the form `_validation_error` sends;
- every `/api/...` operation but `/api/health`: 429 (`RequestRate`, the
  per-user request rate); where the route declares its own 429, the
  request rate is added to its words.

Links between operations (a created workspace's id feeding its files, runs
and terminals) let clients, and Schemathesis's stateful phase, follow them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from sandpit.api import deps, request_rate
from sandpit.api.errors import ErrorOut, ValidationErrorOut, responses

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SANDBOX_SERVICES = (deps.sandbox_manager, deps.run_service, deps.terminal_manager)
_REF = "#/components/schemas/{model}"
_REQUEST_RATE = (
    "too many requests a second from this user (or this address, without a session): "
    "`USER_REQUESTS_PER_S`, `USER_REQUEST_BURST`; `Retry-After` says when to try again."
)

# (from method, from path, status) -> link name -> (to method, to path, parameters)
_LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {}


def _link_workspace(name: str, method: str, path: str) -> None:
    source = ("post", "/api/workspaces", "201")
    _LINKS.setdefault(source, {})[name] = (
        method,
        path,
        {"workspace_id": "$response.body#/id"},
    )


for _name, _method, _path in (
    ("GetWorkspace", "get", "/api/workspaces/{workspace_id}"),
    ("UpdateWorkspace", "patch", "/api/workspaces/{workspace_id}"),
    ("OpenWorkspace", "post", "/api/workspaces/{workspace_id}/open"),
    ("ListFiles", "get", "/api/workspaces/{workspace_id}/files"),
    ("Usage", "get", "/api/workspaces/{workspace_id}/usage"),
    ("WriteFile", "put", "/api/workspaces/{workspace_id}/files/{path}"),
    ("CreateFolder", "post", "/api/workspaces/{workspace_id}/folders"),
    ("DeleteEscapedFile", "delete", "/api/workspaces/{workspace_id}/escaped-files"),
    ("CreateRun", "post", "/api/workspaces/{workspace_id}/runs"),
    ("ListRuns", "get", "/api/workspaces/{workspace_id}/runs"),
    ("GetSandbox", "get", "/api/workspaces/{workspace_id}/sandbox"),
    ("StopSandbox", "delete", "/api/workspaces/{workspace_id}/sandbox"),
    ("CreateTerminal", "post", "/api/workspaces/{workspace_id}/terminals"),
    ("ListTerminals", "get", "/api/workspaces/{workspace_id}/terminals"),
    ("ExportWorkspace", "get", "/api/workspaces/{workspace_id}/export"),
    ("ImportIntoWorkspace", "post", "/api/workspaces/{workspace_id}/import"),
    ("AdminStopSandbox", "delete", "/api/admin/sandboxes/{workspace_id}"),
    ("DeleteWorkspace", "delete", "/api/workspaces/{workspace_id}"),
    ("CreateSnapshot", "post", "/api/workspaces/{workspace_id}/snapshots"),
    ("ListSnapshots", "get", "/api/workspaces/{workspace_id}/snapshots"),
    ("FileHistory", "get", "/api/workspaces/{workspace_id}/history"),
    ("DeletedFiles", "get", "/api/workspaces/{workspace_id}/deleted-files"),
):
    _link_workspace(_name, _method, _path)

# A workspace made by an import is reached the same way as one created empty.
_LINKS[("post", "/api/workspaces/import", "201")] = {
    name: (method, path, {"workspace_id": "$response.body#/id"})
    for name, method, path in (
        ("GetImportedWorkspace", "get", "/api/workspaces/{workspace_id}"),
        ("ListImportedFiles", "get", "/api/workspaces/{workspace_id}/files"),
        ("ExportImportedWorkspace", "get", "/api/workspaces/{workspace_id}/export"),
    )
}

for _status in ("200", "202"):
    _LINKS[("post", "/api/workspaces/{workspace_id}/runs", _status)] = {
        name: (method, path, {"run_id": "$response.body#/id"})
        for name, method, path in (
            ("GetRun", "get", "/api/runs/{run_id}"),
            ("FollowRun", "get", "/api/runs/{run_id}/events"),
            ("SendInput", "post", "/api/runs/{run_id}/stdin"),
            ("StopRun", "post", "/api/runs/{run_id}/stop"),
        )
    }
# A file just written can be read and deleted by the path the answer gives.
for _status in ("200", "201"):
    _LINKS[("put", "/api/workspaces/{workspace_id}/files/{path}", _status)] = {
        name: (
            method,
            "/api/workspaces/{workspace_id}/files/{path}",
            {"workspace_id": "$request.path.workspace_id", "path": "$response.body#/path"},
        )
        for name, method in (("ReadFile", "get"), ("DeleteFile", "delete"))
    }
# --- History and snapshots: a snapshot just made can be listed, compared, restored, deleted.
_LINKS[("post", "/api/workspaces/{workspace_id}/snapshots", "201")] = {
    name: (
        method,
        "/api/workspaces/{workspace_id}/snapshots/{snapshot_id}" + suffix,
        {"workspace_id": "$request.path.workspace_id", "snapshot_id": "$response.body#/id"},
    )
    for name, method, suffix in (
        ("ListSnapshotFiles", "get", "/files"),
        ("CompareSnapshot", "get", "/compare"),
        ("ExportSnapshot", "get", "/export"),
        ("RestoreSnapshot", "post", "/restore"),
        ("DeleteSnapshot", "delete", ""),
    )
}
_LINKS[("post", "/api/workspaces/{workspace_id}/terminals", "201")] = {
    name: (
        method,
        "/api/workspaces/{workspace_id}/terminals/{terminal_id}",
        {"workspace_id": "$response.body#/workspace_id", "terminal_id": "$response.body#/id"},
    )
    for name, method in (("GetTerminal", "get"), ("DeleteTerminal", "delete"))
}

# --- Accounts (api/admin_users.py): a created account's and invitation's ids.
_LINKS[("post", "/api/admin/users", "201")] = {
    name: (method, "/api/admin/users/{user_id}", {"user_id": "$response.body#/id"})
    for name, method in (("UpdateUser", "patch"), ("DeleteUser", "delete"))
}
_LINKS[("post", "/api/admin/invitations", "201")] = {
    "DeleteInvitation": (
        "delete",
        "/api/admin/invitations/{invitation_id}",
        {"invitation_id": "$response.body#/id"},
    )
}


# --- Submission and review (issue 14): an assignment's, a submission's and their workspaces' ids.
_LINKS[("post", "/api/assignments", "201")] = {
    name: (
        method,
        "/api/assignments/{assignment_id}" + suffix,
        {"assignment_id": "$response.body#/id"},
    )
    for name, method, suffix in (
        ("GetAssignment", "get", ""),
        ("UpdateAssignment", "patch", ""),
        ("StartAssignment", "post", "/start"),
        ("GradesCsv", "get", "/grades.csv"),
        ("DeleteAssignment", "delete", ""),
    )
}
_link_workspace("SubmitWorkspace", "post", "/api/workspaces/{workspace_id}/submissions")
for _source in (
    ("post", "/api/assignments/{assignment_id}/start", "201"),
    ("post", "/api/submissions/{submission_id}/copy", "201"),
):
    _LINKS[_source] = {
        name: (method, path, {"workspace_id": "$response.body#/id"})
        for name, method, path in (
            ("GetStartedWorkspace", "get", "/api/workspaces/{workspace_id}"),
            ("ListStartedFiles", "get", "/api/workspaces/{workspace_id}/files"),
            ("SubmitStartedWorkspace", "post", "/api/workspaces/{workspace_id}/submissions"),
        )
    }
_LINKS[("post", "/api/workspaces/{workspace_id}/submissions", "201")] = {
    name: (
        method,
        "/api/submissions/{submission_id}" + suffix,
        {"submission_id": "$response.body#/id"},
    )
    for name, method, suffix in (
        ("GetSubmission", "get", ""),
        ("CommentOnSubmission", "post", "/comments"),
        ("ReviewSubmission", "post", "/reviews"),
        ("MarkSubmissionRead", "post", "/read"),
        ("CopySubmission", "post", "/copy"),
    )
}


def install(app: FastAPI) -> None:
    """Serve the completed document at `app.openapi_url` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with the derived errors and the links."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorOut, ValidationErrorOut):
        generated = model.model_json_schema(ref_template=_REF)
        schemas.update(generated.pop("$defs", {}))
        schemas[model.__name__] = generated
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            path = context.path_format or ""
            for method in context.methods or ():
                operation = doc["paths"][path][method.lower()]
                _declare_errors(route, method, operation, path)
    # FastAPI's own 422 model is replaced everywhere by the one we send.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    _add_links(doc)
    return doc


def _declare_errors(route: APIRoute, method: str, operation: dict[str, Any], path: str) -> None:
    calls = set(_calls(route.dependant))
    codes: set[int] = set()
    rate_limited = path.startswith("/api/") and path not in request_rate.EXEMPT
    if rate_limited:
        codes.add(429)
        own = operation.get("responses", {}).get("429")
        if own is not None and _REQUEST_RATE not in own["description"]:
            own["description"] = f"{own['description']} Or: {_REQUEST_RATE}"
    if deps.current_user in calls:
        codes.add(401)
        if method in _UNSAFE:
            codes.add(403)
    if deps.current_admin in calls:
        codes.add(403)
    if deps.owned_workspace in calls:
        codes.add(404)
    if any(service in calls for service in _SANDBOX_SERVICES):
        codes.add(503)
    if "requestBody" in operation:
        codes |= {400, 413}
    if "requestBody" in operation or operation.get("parameters"):
        codes.add(422)
    declared = operation.setdefault("responses", {})
    declared.pop("422", None)
    for code, entry in responses(*sorted(codes)).items():
        if str(code) in declared:
            # The route's own words; make sure it carries the error model.
            declared[str(code)].setdefault("content", _error_content(entry["model"]))
            continue
        response: dict[str, Any] = {
            "description": entry["description"],
            "content": _error_content(entry["model"]),
        }
        if "headers" in entry:
            response["headers"] = entry["headers"]
        declared[str(code)] = response
    for entry in declared.values():
        for media in entry.get("content", {}).values():
            if media.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                media["schema"] = {"$ref": _REF.format(model="ValidationErrorOut")}


def _error_content(model: type[ErrorOut]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _add_links(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    for (method, path, status), links in _LINKS.items():
        response = paths[path][method]["responses"][status]
        response["links"] = {
            name: {
                "operationId": paths[to_path][to_method]["operationId"],
                "parameters": parameters,
            }
            for name, (to_method, to_path, parameters) in links.items()
        }
