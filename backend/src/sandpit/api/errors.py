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

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandpit.errors import RateLimited, SandpitError

log = logging.getLogger(__name__)

_STATUS_SENTENCES = {
    404: "There is nothing at this address.",
    405: "This method is not allowed here.",
}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SandpitError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SandpitError)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


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
