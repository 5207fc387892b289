"""`GET /metrics`: the Prometheus text format, for a scraper with the token or an admin.

Not public (CONTRACT: "it needs a scrape token or an admin"): the request
must carry `Authorization: Bearer <METRICS_TOKEN>` (compared in constant
time; never accepted while the setting is empty), or be an administrator's
signed-in request (token or cookie).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time

from fastapi import APIRouter, Request, Response

from sandpit.api.deps import Context, DbSession, bearer_token, token_from_request, token_user
from sandpit.api.errors import responses
from sandpit.config import Settings
from sandpit.context import AppContext
from sandpit.db.models import Role
from sandpit.errors import Forbidden
from sandpit.metrics import CONTENT_TYPE
from sandpit.proxy.server import PackageProxy

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Every metric, in the Prometheus text format.",
            "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
        },
        **responses(401, 403),
    },
)
async def metrics(request: Request, context: Context, db: DbSession) -> Response:
    """The server's metrics (see `sandpit.metrics` for the list and their labels)."""
    expected = context.settings.metrics_token.get_secret_value()
    given = bearer_token(request.headers.get("authorization"))
    if not (expected and given and secrets.compare_digest(given.encode(), expected.encode())):
        token = token_from_request(
            request.headers, request.cookies, request.method, context, request.url.scheme
        )
        user = await token_user(db, context, token)
        if user.role != Role.ADMIN.value:
            raise Forbidden(
                "Only an administrator or a scraper with the metrics token may read this."
            )
    await sample_gauges(context)
    return Response(context.metrics.render(), media_type=CONTENT_TYPE)


async def sample_gauges(context: AppContext) -> None:
    """Set the gauges from the live objects (on the event loop: they are not thread-safe)."""
    m = context.metrics
    settings = context.settings
    manager = context.sandboxes
    if manager is not None:
        m.set_gauge("sandpit_sandboxes_active", len(manager.running()))
        if manager.admission is not None:
            in_use = await asyncio.to_thread(manager.admission.memory_in_use)
            m.set_gauge("sandpit_sandboxes_memory_bytes", in_use or 0)
        m.set_gauge("sandpit_sandboxes_memory_budget_bytes", settings.sandboxes_memory_bytes)
        proxy = getattr(manager.backend, "proxy", None)
        if isinstance(proxy, PackageProxy):
            tunnels = sum(len(endpoint.tasks) for endpoint in proxy.endpoints.values())
            m.set_gauge("sandpit_proxy_tunnels", tunnels)
            m.proxy_bytes = proxy.allowance.total
    if context.terminals is not None:
        terminals = [t for t in context.terminals.all() if not t.exited]
        m.set_gauge("sandpit_terminal_sessions", len(terminals))
        m.set_gauge("sandpit_terminal_clients", sum(len(t.clients) for t in terminals))
    if context.runs is not None:
        m.set_gauge("sandpit_runs_active", context.runs.running_count())
    m.set_gauge("sandpit_storage_used_bytes", await _storage.used(settings))


class _StorageScan:
    """Bytes allocated under the workspaces and run directories, rescanned at most once a minute.

    With volumes, a workspace is one sparse image file: its allocated blocks
    are its use, and the mounted trees are not walked. Links are never followed.
    """

    def __init__(self, every_s: float = 60.0) -> None:
        self._every_s = every_s
        self._at = -every_s
        self._bytes = 0

    async def used(self, settings: Settings) -> int:
        now = time.monotonic()
        if now - self._at >= self._every_s:
            self._at = now
            self._bytes = await asyncio.to_thread(_allocated, settings)
        return self._bytes


def _allocated(settings: Settings) -> int:
    total = 0
    roots = [settings.data_dir / "runs"]
    if settings.workspace_volumes:
        with contextlib.suppress(OSError):
            for entry in os.scandir(settings.workspaces_dir):
                if entry.name.endswith(".img") and entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
    else:
        roots.append(settings.workspaces_dir)
    for root in roots:
        for directory, _dirs, files in os.walk(root):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total


_storage = _StorageScan()
