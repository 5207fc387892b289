"""Dependencies shared by the routers: the database session, the signed-in user,
the workspace they own, and the sandbox services.

A request is authenticated by `Authorization: Bearer <token>` (scripts and
other API clients) or by the session cookie (the browser). For cookie
authentication of state-changing requests, the `Origin` header must be ours:
the cookie is SameSite=Strict already, and this closes the remaining gaps
(older browsers, sibling subdomains).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.context import AppContext
from sandpit.db.models import Role, User, Workspace
from sandpit.errors import Forbidden, Unauthorized
from sandpit.runs.service import RunService
from sandpit.sandbox.manager import SandboxManager
from sandpit.security.origins import origin_allowed
from sandpit.services import users, workspaces
from sandpit.terminals.manager import TerminalManager

SESSION_COOKIE = "sandpit_session"
# Beside the session cookie, readable by the page's scripts, never proof of
# anything: it tells the web app whether asking `GET /api/auth/me` can
# succeed, so a signed-out page goes to sign in without a 401 (which browsers
# log on the console). The session cookie alone decides who is signed in.
SIGNED_IN_COOKIE = "sandpit_signed_in"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(app_context)]


async def db_session(context: Context) -> AsyncIterator[AsyncSession]:
    async with context.sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session)]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer` header, or None if absent."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def token_from_request(
    headers: Any, cookies: dict[str, str], method: str, context: AppContext, scheme: str
) -> str:
    """Find the request's token (header first, then cookie) or raise `Unauthorized`/`Forbidden`.

    `scheme` is the request's URL scheme: with the cookie, a state-changing
    request must come from this very origin (scheme, host and port) or an
    allowed one (`sandpit.security.origins`).
    """
    token = bearer_token(headers.get("authorization"))
    if token is not None:
        return token
    token = cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthorized("Please sign in first.")
    if method not in _SAFE_METHODS and not origin_allowed(
        headers.get("origin"), scheme, headers.get("host"), context.settings.allowed_origins
    ):
        raise Forbidden("This request came from another site and was refused.")
    return token


async def token_user(db: AsyncSession, context: AppContext, token: str) -> User:
    """The user a token was issued to; `Unauthorized` if it is invalid or they are gone."""
    user = await users.get_user(db, context.tokens.user_id(token))
    if user is None:
        raise Unauthorized("Your account no longer exists; please sign in again.")
    if user.disabled:
        # Disabling takes effect at once, on tokens issued before it too.
        raise Unauthorized("Your account is disabled; ask an administrator.")
    return user


async def current_user(request: Request, context: Context, db: DbSession) -> User:
    token = token_from_request(
        request.headers, request.cookies, request.method, context, request.url.scheme
    )
    user = await token_user(db, context, token)
    # For the refusal log: who was refused, if a limit refuses this request.
    request.state.user_id = user.id
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_admin(user: CurrentUser) -> User:
    if user.role != Role.ADMIN.value:
        raise Forbidden("Only an administrator may do this.")
    return user


CurrentAdmin = Annotated[User, Depends(current_admin)]


async def owned_workspace(workspace_id: str, user: CurrentUser, db: DbSession) -> Workspace:
    """The workspace of the path's `workspace_id`; `NotFound` unless the user owns it."""
    return await workspaces.get_owned(db, user, workspace_id)


OwnedWorkspace = Annotated[Workspace, Depends(owned_workspace)]


# The sandbox services exist only where sandboxes can run; elsewhere a route
# that needs one answers 503 with the reason found at start-up.


def sandbox_manager(context: Context) -> SandboxManager:
    if context.sandboxes is None:
        raise context.sandboxes_unavailable()
    return context.sandboxes


def run_service(context: Context) -> RunService:
    if context.runs is None:
        raise context.sandboxes_unavailable()
    return context.runs


def terminal_manager(context: Context) -> TerminalManager:
    if context.terminals is None:
        raise context.sandboxes_unavailable()
    return context.terminals


Sandboxes = Annotated[SandboxManager, Depends(sandbox_manager)]
Runs = Annotated[RunService, Depends(run_service)]
Terminals = Annotated[TerminalManager, Depends(terminal_manager)]
