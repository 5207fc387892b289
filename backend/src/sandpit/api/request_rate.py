"""The per-user request rate, enforced before anything else reads the request.

A pure ASGI middleware (no per-request objects beyond the scope): each
request to `/api/...` takes a token from its user's bucket
(`sandpit.security.request_rate`). Whose it is comes from the credential it
carries, as `api/deps.py` reads it (the `Authorization: Bearer` token, else
the session cookie), checked by signature, not by the database; a request
without a valid credential counts against its client address (behind a
trusted proxy, the address it forwarded). An empty bucket answers at once:

- HTTP: 429, `{"detail": <sentence naming the limit>, "limit":
  "user_requests_per_s"}`, `Retry-After` in whole seconds;
- a WebSocket upgrade (a terminal, a language server): the same 429 as the
  handshake's answer where the server can send one (the ASGI
  `websocket.http.response` extension; the browser then sees an abnormal
  close, 1006, and reconnects with its backoff), else the socket is closed
  with 1013 "try again later". Messages on an open socket are not counted:
  they have their own limits.

So a flood is refused without authentication's database read, the route's
work or the body's upload. Even so each refusal costs the one event loop
(parsing, two socket writes): a client that does not wait its `Retry-After`
(asks again before it has passed) has its refusal held for that long before
it is sent, at most `HOLD_PER_KEY` at once per user or address and
`HOLD_TOTAL` in all (past those, refused at once), so a client that floods
over a few connections is answered a few times a second, not hundreds.
A client that waits as told is never held. Not counted: `/api/health` (a liveness probe
must not be starved by a tenant at the same address), the web app's static
files and `/metrics` (outside `/api`). Each refusal counts in the
`sandpit_refusals` metric; the admin view's refusal log gets one entry per
episode (the first refusal after an admitted request), so one user's flood
cannot push everyone else's refusals out of its ring.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from sandpit.api.deps import SESSION_COOKIE
from sandpit.metrics import Metrics
from sandpit.security.request_rate import CredentialOwners, TokenBuckets

# The route label of these refusals (metrics, refusal log): they happen before routing.
ROUTE = "/api/*"
EXEMPT = frozenset({"/api/health"})
LIMIT = "user_requests_per_s"
HOLD_PER_KEY = 4
HOLD_TOTAL = 1024


class RequestRate:
    def __init__(
        self, app: ASGIApp, buckets: TokenBuckets, owners: CredentialOwners, metrics: Metrics
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.owners = owners
        self.metrics = metrics
        self._held: dict[str, int] = {}
        self._held_total = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] not in ("http", "websocket")
            or not path.startswith("/api/")
            or path in EXEMPT
        ):
            await self.app(scope, receive, send)
            return
        user_id = self._owner(scope)
        if user_id is not None:
            key = "user:" + user_id
        else:
            client = scope.get("client")
            key = "address:" + (client[0] if client else "unknown")
        taken = self.buckets.take(key)
        if not taken.wait_s:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(taken.wait_s))
        detail = self._sentence(user_id is not None, seconds)
        self._note(scope, user_id, detail, taken.first)
        if taken.ignored:
            await self._hold(key, seconds)
        if scope["type"] == "http":
            await _refuse_http(send, detail, seconds)
        else:
            await _refuse_websocket(scope, receive, send, detail, seconds)

    async def _hold(self, key: str, seconds: int) -> None:
        """Wait `seconds` before refusing, within the caps on held refusals."""
        held = self._held.get(key, 0)
        if held >= HOLD_PER_KEY or self._held_total >= HOLD_TOTAL:
            return
        self._held[key] = held + 1
        self._held_total += 1
        try:
            await asyncio.sleep(seconds)
        finally:
            self._held_total -= 1
            if self._held[key] == 1:
                del self._held[key]
            else:
                self._held[key] -= 1

    def _owner(self, scope: Scope) -> str | None:
        """The user id of the request's credential, or None (none, or not valid)."""
        authorization = cookie = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
        token = None
        if authorization:
            scheme, _, given = authorization.partition(" ")
            token = given.strip() if scheme.lower() == "bearer" else None
        elif cookie:
            token = cookie_parser(cookie).get(SESSION_COOKIE)
        return self.owners.owner(token) if token else None

    def _sentence(self, signed_in: bool, seconds: int) -> str:
        whose = "one user" if signed_in else "one address without a session"
        return (
            f"Too many requests: at most {self.buckets.rate:g} a second for {whose} "
            f"(bursts of {self.buckets.burst}); try again in {seconds} s."
        )

    def _note(self, scope: Scope, user_id: str | None, detail: str, first: bool) -> None:
        self.metrics.rate_limited.labels(route=ROUTE, status="429").inc()
        if not first:
            return
        app: Any = scope.get("app")
        context = getattr(getattr(app, "state", None), "context", None)
        if context is not None:
            context.refusals.record(429, ROUTE, user_id, detail)


def _body(detail: str) -> bytes:
    return json.dumps({"detail": detail, "limit": LIMIT}).encode()


def _headers(body: bytes, seconds: int) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()),
    ]


async def _refuse_http(send: Send, detail: str, seconds: int) -> None:
    body = _body(detail)
    await send({"type": "http.response.start", "status": 429, "headers": _headers(body, seconds)})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(
    scope: Scope, receive: Receive, send: Send, detail: str, seconds: int
) -> None:
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        body = _body(detail)
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 429,
                "headers": _headers(body, seconds),
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 1013, "reason": detail[:120]})
