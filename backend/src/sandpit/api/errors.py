"""The one place where errors become HTTP responses and WebSocket close codes.

Every body is `{"detail": "<a sentence>"}`. Domain errors carry their own
status and sentence; FastAPI's validation errors become a 422 whose detail is
a readable sentence (the structured list stays under `errors` for tools);
anything unexpected becomes a 500 with a short message, its cause logged.

A WebSocket that cannot be served is accepted and then closed with
4000 + the HTTP status of the same error (4401 not signed in, 4403 refused
origin, 4404 no such terminal, 4429 too many windows on it, 4503 sandboxes
unavailable), its reason the same sentence, cut to fit.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandpit.api.observe import note_refusal
from sandpit.errors import SandpitError

log = logging.getLogger(__name__)


class ErrorOut(BaseModel):
    """Every error's body."""

    detail: str = Field(description="What went wrong, in a sentence a person understands.")


class ValidationIssue(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query`, `path`, then the field.")
    msg: str
    type: str


class ValidationErrorOut(ErrorOut):
    """A 422: the request's shape is wrong; `detail` names the first bad field."""

    errors: list[ValidationIssue]


# What each status means wherever it is declared (`responses`); an operation
# adds its own sentence where it says more.
_MEANINGS = {
    400: "The request is malformed or asks for something impossible.",
    401: "Not signed in, or the session has expired.",
    403: "Refused: the role does not allow it, or a cookie-authenticated request came "
    "from another site.",
    404: "No such resource (or another user's).",
    405: "The method is not allowed here; `Allow` lists those that are.",
    409: "The resource's state forbids this.",
    413: "A body, file or quota limit would be passed.",
    415: "The content is not what this endpoint accepts.",
    422: "The request's shape is wrong (a missing or mistyped field).",
    429: "A per-user limit was reached (on any operation: the request rate, "
    "`USER_REQUESTS_PER_S`); `Retry-After` says when to try again.",
    503: "Sandboxes cannot run here right now, or the server is full (then with "
    "`Retry-After`); the sentence says why.",
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 1},
        "required": True,
    }
}


def responses(*codes: int, **sentences: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` declaring `codes` with the error model (for a route or router).

    `sentences` overrides the meaning of a status for this operation, keyed
    `e409="..."`.
    """
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model = ValidationErrorOut if code == 422 else ErrorOut
        entry: dict[str, Any] = {
            "model": model,
            "description": sentences.get(f"e{code}", _MEANINGS[code]),
        }
        if code == 429:
            entry["headers"] = _RETRY_AFTER
        if code == 503:
            entry["headers"] = {"Retry-After": {**_RETRY_AFTER["Retry-After"], "required": False}}
        declared[code] = entry
    return declared


_STATUS_SENTENCES = {
    404: "There is nothing at this address.",
    405: "This method is not allowed here.",
}


class MethodNotAllowed(StarletteHTTPException):
    """405 for a path that exists, naming the methods it serves in `Allow`."""

    def __init__(self, allowed: set[str]) -> None:
        super().__init__(405, headers={"Allow": ", ".join(sorted(allowed))})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SandpitError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SandpitError)
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
        note_refusal(request, exc)
    return JSONResponse(
        {**exc.extra, "detail": exc.detail}, status_code=exc.status_code, headers=headers
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    return JSONResponse(
        {"detail": validation_sentence(errors), "errors": _jsonable(errors)}, status_code=422
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if not isinstance(detail, str) or detail in ("Not Found", "Method Not Allowed"):
        detail = _STATUS_SENTENCES.get(exc.status_code, "The request could not be served.")
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "Something went wrong on the server; the error has been logged."},
        status_code=500,
    )


def validation_sentence(errors: object) -> str:
    """Turn FastAPI's error list into one sentence naming the first bad field."""
    if not isinstance(errors, list | tuple) or not errors:
        return "The request is not valid."
    first = errors[0]
    if not isinstance(first, dict):
        return "The request is not valid."
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    message = str(first.get("msg", "is not valid")).rstrip(".")
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
        return message if message.endswith(".") else message + "."
    field = ".".join(location)
    if not field:
        return f"The request body is not valid: {message.lower()}."
    return f"The field {field!r} is not valid: {message[0].lower() + message[1:]}."


def _jsonable(errors: object) -> object:
    # Pydantic puts exception objects in `ctx`; keep only JSON-safe parts.
    if not isinstance(errors, list | tuple):
        return []
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in errors
        if isinstance(e, dict)
    ]


def ws_close_code(error: SandpitError) -> int:
    """The WebSocket close code for a domain error: 4000 + its HTTP status."""
    return 4000 + error.status_code


def close_reason(sentence: str) -> str:
    """`sentence` cut to fit a WebSocket close reason (at most 123 bytes of UTF-8)."""
    encoded = sentence.encode()
    return sentence if len(encoded) <= 123 else encoded[:120].decode("utf-8", "ignore") + "..."
