"""The application factory: `create_app(settings)` builds a complete server.

Start-up (the lifespan) resolves the signing secret, opens the database and
applies migrations, so a server that is accepting requests is fully ready;
shut-down disposes of the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match

from sandpit import __version__
from sandpit.api import (
    admin,
    auth,
    files,
    health,
    history,
    limits,
    openapi,
    runs,
    sandboxes,
    terminals,
    workspaces,
)
from sandpit.api.body_size import BodySizeLimit
from sandpit.api.errors import MethodNotAllowed, install_error_handlers
from sandpit.config import Settings
from sandpit.context import AppContext
from sandpit.db import migrate
from sandpit.db.engine import create_engine, session_factory
from sandpit.errors import NotFound
from sandpit.frontend import mount_frontend
from sandpit.history.restore import Restorer
from sandpit.history.service import HistoryService
from sandpit.history.watcher import HistoryWatcher
from sandpit.runs.service import RunService
from sandpit.sandboxes import SandboxSetupError, build_manager
from sandpit.security.ratelimit import MemoryRateLimiter
from sandpit.security.tokens import TokenCodec
from sandpit.terminals.commandlog import CommandLog
from sandpit.terminals.manager import TerminalManager
from sandpit.workspaces.store import volumes

log = logging.getLogger(__name__)

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. `settings` defaults to the environment and `backend/.env`."""
    settings = settings or Settings()
    # Fail before serving anything if the secret is unusable (production).
    secret = settings.resolve_jwt_secret()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.workspaces_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.effective_database_url())
        await migrate.upgrade(engine)
        sessions = session_factory(engine)
        stored_history = HistoryService(settings, sessions)  # --- History and snapshots
        context = AppContext(
            settings=settings,
            engine=engine,
            sessions=sessions,
            tokens=TokenCodec(secret, settings.jwt_ttl_s),
            limiter=MemoryRateLimiter(),
            history=stored_history,
            restorer=Restorer(stored_history, lambda _: False),
        )
        try:
            context.sandboxes = await build_manager(settings)
        except SandboxSetupError as exc:
            # The rest of the API (accounts, files) still works; runs and
            # terminals answer 503 with this sentence.
            context.sandbox_unavailable = exc.detail
            log.error("sandboxes are unavailable: %s", exc.detail)
        if context.sandboxes is not None:
            context.runs = RunService(
                settings, context.sandboxes, context.sessions, context.limiter
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
        watcher = _watch_history(context)  # --- History and snapshots
        app.state.context = context
        log.info("sandpit ready on port %s (data in %s)", settings.port, settings.data_dir)
        try:
            yield
        finally:
            if watcher is not None:  # --- History and snapshots
                await watcher.close()
            if context.terminals is not None:  # --- Terminals
                await context.terminals.close()
            if context.runs is not None:
                await context.runs.close()
            if context.sandboxes is not None:
                await context.sandboxes.close()
            if settings.workspace_volumes:
                await asyncio.to_thread(volumes(settings).unmount_all)
            await engine.dispose()

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
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)

    api = APIRouter(prefix="/api")
    for module in (
        health,
        auth,
        workspaces,
        files,
        history,
        runs,
        sandboxes,
        terminals,
        limits,
        admin,
    ):
        api.include_router(module.router)
    app.include_router(api)

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
