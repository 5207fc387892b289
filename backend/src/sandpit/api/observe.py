"""Request metrics and the refusal log: what every answer tells the operator.

`RequestMetrics` is a pure ASGI middleware counting each HTTP answer by
method, route *template* and status, and timing it; `note_refusal` records a
429 or 503 with `Retry-After` (or a WebSocket closed with 4429 or 4503, the
same refusal on a socket) for the admin view and the metrics. Both name
a request by the template of the route that matched it (`route_of`), so a
label never holds a raw path, an id or a user's name.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandpit.errors import SandpitError
from sandpit.metrics import Metrics

UNMATCHED = "unmatched"


def route_of(scope: Scope) -> str:
    """The full template of the route that served `scope` ("unmatched" before or without one).

    FastAPI puts the route as its router declared it in the scope (without
    the `/api` prefix); the app's route contexts know the full template.
    """
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    app = scope.get("app")
    state = getattr(app, "state", None)
    templates: dict[int, str] | None = getattr(state, "route_templates", None)
    if templates is None and state is not None and isinstance(app, FastAPI):
        # Built once, on the first request: every route is in place by then.
        templates = {
            id(context.original_route): context.path_format
            for context in iter_route_contexts(app.router.routes)
            if context.path_format
        }
        state.route_templates = templates
    path = (templates or {}).get(id(route)) or getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetrics:
    """Counts and times every HTTP request in `metrics` (WebSockets are not requests)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = route_of(scope)
            method = str(scope.get("method", "GET"))
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.request_seconds.labels(method=method, route=route).observe(
                time.perf_counter() - began
            )


def note_refusal(
    connection: HTTPConnection, error: SandpitError, user_id: str | None = None
) -> None:
    """Record a refusal with `Retry-After` (429, 503) in the refusal log and the metrics.

    `connection` is the HTTP request answered with it, or the WebSocket
    closed with its code (4000 + the status); either is logged under its
    route template and status. `user_id` defaults to the one the
    authentication dependency noted on the request, if any.
    """
    if error.retry_after is None:
        return
    context: Any = getattr(connection.app.state, "context", None)
    if context is None:
        return
    route = route_of(connection.scope)
    if user_id is None:
        user_id = getattr(connection.state, "user_id", None)
    context.refusals.record(error.status_code, route, user_id, error.detail)
    context.metrics.rate_limited.labels(route=route, status=str(error.status_code)).inc()
