"""The application factory: `create_app(settings)` builds a complete server.

Start-up (the lifespan) resolves the signing secret, opens the database and
applies migrations, so a server that is accepting requests is fully ready;
shut-down disposes of the engine.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match

from sandpit import __version__
from sandpit.api import (
    admin,
    admin_users,
    archives,
    assignments,
    auth,
    files,
    health,
    history,
    limits,
    lsp,
    metrics,
    openapi,
    runs,
    sandboxes,
    submissions,
    terminals,
    workspaces,
)
from sandpit.api.body_size import BodySizeLimit
from sandpit.api.errors import MethodNotAllowed, install_error_handlers
from sandpit.api.observe import RequestMetrics
from sandpit.api.request_rate import RequestRate
from sandpit.config import Settings, private_data_dir
from sandpit.context import AppContext
from sandpit.db import migrate
from sandpit.db.engine import create_engine, session_factory
from sandpit.errors import NotFound
from sandpit.frontend import mount_frontend
from sandpit.grading import runner
from sandpit.history.restore import Restorer
from sandpit.history.service import HistoryService
from sandpit.history.watcher import HistoryWatcher
from sandpit.lsp.manager import LanguageServers
from sandpit.lsp.session import lsp_settings
from sandpit.metrics import Metrics
from sandpit.review.checks import CheckQueue
from sandpit.runs.service import RunService
from sandpit.sandboxes import SandboxSetupError, build_manager
from sandpit.security.login_throttle import LoginThrottle
from sandpit.security.ratelimit import MemoryRateLimiter
from sandpit.security.request_rate import CredentialOwners, TokenBuckets
from sandpit.security.tokens import TokenCodec
from sandpit.terminals.commandlog import CommandLog
from sandpit.terminals.manager import TerminalManager
from sandpit.workspaces.reaper import VolumeReaper
from sandpit.workspaces.store import mounted_workspace_dir, volumes

log = logging.getLogger(__name__)

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def _volume_reaper(settings: Settings, context: AppContext) -> VolumeReaper | None:
    """Started here: volumes are mounted when needed and unmounted after idling."""
    if not settings.workspace_volumes:
        return None

    def in_use() -> set[str]:
        sandboxes = context.sandboxes
        busy = set() if sandboxes is None else sandboxes.workspaces_with_sandbox()
        # A language-server sandbox mounts the workspace too.
        return busy | (set() if context.lsp is None else context.lsp.workspaces())

    reaper = VolumeReaper(volumes(settings), settings.workspace_volume_idle_s, in_use)
    reaper.start()
    return reaper


async def _open_context(settings: Settings, secret: str, server_metrics: Metrics) -> AppContext:
    """The data directory made private, the database migrated, the services started.

    Sandboxes that cannot start (no image, no cgroups) leave runs and terminals
    unset and `sandbox_unavailable` saying why; the rest of the API still works.
    """
    private_data_dir(settings.data_dir)
    # Search-only for others: each sandbox's uid passes through to its own
    # workspace (0700, its own); no one may list the workspaces.
    settings.workspaces_dir.mkdir(mode=0o711, exist_ok=True)
    os.chmod(settings.workspaces_dir, 0o711)  # noqa: S103 - search only, as said
    engine = create_engine(settings.effective_database_url())
    try:
        await migrate.upgrade(engine)
    except migrate.SchemaTooNew as exc:
        # The one line an operator must see: the server then stops.
        log.critical("refusing to start: %s", exc.detail)
        await engine.dispose()
        raise
    sessions = session_factory(engine)
    stored_history = HistoryService(settings, sessions)  # --- History and snapshots
    context = AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        tokens=TokenCodec(secret, settings.jwt_ttl_s),
        limiter=MemoryRateLimiter(),
        history=stored_history,
        # Replaced by `_watch_history` where runs exist (restores then wait for none).
        restorer=Restorer(stored_history, lambda _: False),
        login_throttle=LoginThrottle(
            free_failures=settings.login_free_failures,
            base_s=settings.login_delay_base_s,
            max_s=settings.login_delay_max_s,
        ),
        metrics=server_metrics,
    )
    try:
        context.sandboxes = await build_manager(settings, context.limiter, server_metrics)
    except SandboxSetupError as exc:
        # The rest of the API (accounts, files) still works; runs and
        # terminals answer 503 with this sentence.
        context.sandbox_unavailable = exc.detail
        log.error("sandboxes are unavailable: %s", exc.detail)
    if context.sandboxes is not None:
        context.runs = RunService(
            settings,
            context.sandboxes,
            context.sessions,
            context.limiter,
            on_finished=server_metrics.run_finished,
        )
        # --- Terminals
        context.terminals = TerminalManager(
            settings,
            context.sandboxes,
            context.limiter,
            CommandLog(
                context.sessions,
                context.limiter,
                per_minute=settings.command_log_per_minute,
                max_rows=settings.command_log_max_rows,
            ),
        )
        context.terminals.open()
        # --- Submission checks: each in a fresh sandbox of the same backend.
        context.checks = CheckQueue(
            settings, sessions, stored_history, context.sandboxes.backend, runner.grade
        )
        context.checks.open()
        if settings.lsp_enabled:  # --- Language servers
            context.lsp = LanguageServers(
                context.sandboxes.backend,
                lambda workspace_id: mounted_workspace_dir(settings, workspace_id),
                lsp_settings(settings),
                context.sandboxes.admission,
                context.sandboxes.starting_count,
            )
            context.sandboxes.starting_elsewhere = context.lsp.starting_count
    return context


async def _close_context(context: AppContext, reaper: VolumeReaper | None) -> None:
    """Everything `_open_context` started, stopped: terminals, runs, sandboxes, volumes."""
    if context.checks is not None:  # --- Submission checks (resumed at the next start)
        await context.checks.close()
    if context.lsp is not None:  # --- Language servers
        await context.lsp.close()
    if context.terminals is not None:  # --- Terminals
        await context.terminals.close()
    if context.runs is not None:
        await context.runs.close()
    if context.sandboxes is not None:
        await context.sandboxes.close()
    if reaper is not None:
        await reaper.close()
    if context.settings.workspace_volumes:
        await asyncio.to_thread(volumes(context.settings).unmount_all)
    await context.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. `settings` defaults to the environment and `backend/.env`."""
    settings = settings or Settings()
    # Fail before serving anything if the secret is unusable (production).
    secret = settings.resolve_jwt_secret()
    # Built with the app, not in the lifespan: the request middleware counts into it.
    server_metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = await _open_context(settings, secret, server_metrics)
        reaper = _volume_reaper(settings, context)
        watcher = _watch_history(context)  # --- History and snapshots
        app.state.context = context
        log.info("sandpit ready on port %s (data in %s)", settings.port, settings.data_dir)
        try:
            yield
        finally:
            if watcher is not None:  # --- History and snapshots
                await watcher.close()
            await _close_context(context, reaper)

    app = FastAPI(
        title="Sandpit",
        version=__version__,
        description="A web-based Python development environment with sandboxed execution.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        larger=[(path, settings.import_max_bytes) for path in archives.IMPORT_PATHS],
    )
    # Outside the body limit (a refused flood's bodies are never read), inside
    # the metrics (its 429s are counted as answers).
    app.add_middleware(
        RequestRate,
        buckets=TokenBuckets(settings.user_requests_per_s, settings.user_request_burst),
        owners=CredentialOwners(TokenCodec(secret, settings.jwt_ttl_s)),
        metrics=server_metrics,
    )
    app.add_middleware(RequestMetrics, metrics=server_metrics)

    api = APIRouter(prefix="/api")
    routers = (health, auth, archives, workspaces, files, history, runs, sandboxes, terminals, lsp)
    review = (assignments, submissions)  # --- Submission and review (issue 14)
    for module in (*routers, *review, limits, admin, admin_users):
        api.include_router(module.router)
    api.include_router(sandboxes.user_router)
    api.include_router(assignments.joins)
    app.include_router(api)
    app.include_router(metrics.router)

    @app.api_route("/api/{rest:path}", methods=_ALL_METHODS, include_in_schema=False)
    async def unknown_endpoint(request: Request) -> None:
        # Without this, unknown API paths would fall through to the web app.
        # Starlette's own 405 names only the first route of a path's methods.
        allowed = {
            method
            for route in iter_route_contexts(api.routes)
            if isinstance(route.original_route, APIRoute)
            and route.matches(request.scope)[0] is not Match.NONE
            for method in route.methods or ()
        }
        if allowed:
            raise MethodNotAllowed(allowed)
        raise NotFound("There is no API endpoint at this address.")

    openapi.install(app)
    mount_frontend(app, settings.frontend_dir)
    return app


def _watch_history(context: AppContext) -> HistoryWatcher | None:
    """Where sandboxes run: the watcher that records what programs change, and
    restores that refuse to run under a running program. None elsewhere."""
    if context.sandboxes is None or context.runs is None:
        return None
    runs = context.runs
    context.restorer = Restorer(context.history, lambda w: runs.running_in(w) > 0)
    watcher = HistoryWatcher(context.history, context.sandboxes.running_workspaces)
    watcher.open()
    return watcher
