"""Accounts and sessions: register, login, logout, me, and deleting one's account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from sandpit.api.account_schemas import AccountDeletion, Registration, RegistrationInfo
from sandpit.api.deps import SESSION_COOKIE, SIGNED_IN_COOKIE, Context, CurrentUser, DbSession
from sandpit.api.errors import responses
from sandpit.api.schemas import LoginRequest, Token, UserOut
from sandpit.errors import Forbidden, RateLimited
from sandpit.security.passwords import verify_password
from sandpit.security.ratelimit import retry_after_seconds
from sandpit.services import accounts, users

router = APIRouter(prefix="/auth", tags=["auth"])


def client_address(request: Request) -> str:
    """The client's address (behind a trusted proxy, the one it forwarded)."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=responses(
        403,
        409,
        429,
        e403="Sign-up is closed and no valid invitation code was given.",
        e409="The username is taken.",
        e429="Too many sign-ups from this address.",
    ),
)
async def register(
    body: Registration, request: Request, db: DbSession, context: Context
) -> UserOut:
    """Create an account (with an invitation code while sign-up is closed)."""
    user = await accounts.register(
        db,
        context.settings,
        context.limiter,
        client_address(request),
        body.username,
        body.password,
        body.invitation,
    )
    return UserOut.model_validate(user)


@router.get("/registration", response_model=RegistrationInfo)
async def registration(context: Context) -> RegistrationInfo:
    """Whether anyone may sign up, or only with an invitation code."""
    return RegistrationInfo(open=context.settings.signup_open)


@router.post(
    "/login",
    response_model=Token,
    responses=responses(
        401,
        403,
        429,
        e401="The username or password is wrong.",
        e403="The account is disabled.",
        e429="Too many failed attempts for this account from this address, or from this address.",
    ),
)
async def login(
    body: LoginRequest, request: Request, response: Response, context: Context, db: DbSession
) -> Token:
    """Check the credentials; return a bearer token and set the browser's session cookie."""
    settings = context.settings
    user = await users.authenticate(
        db,
        context.limiter,
        context.login_throttle,
        body.username,
        body.password,
        client_address(request),
        per_address=settings.login_attempts_per_address,
        window_s=settings.login_window_s,
    )
    token = context.tokens.issue(user.id)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.jwt_ttl_s,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    response.set_cookie(
        SIGNED_IN_COOKIE,
        "1",
        max_age=settings.jwt_ttl_s,
        httponly=False,
        samesite="strict",
        secure=settings.cookie_secure,
        path="/",
    )
    return Token(access_token=token, expires_in=settings.jwt_ttl_s)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(response: Response) -> None:
    _forget_session(response)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)


@router.delete(
    "/me",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(403, 429, e403="The password is wrong.", e429="Too many wrong passwords."),
)
async def delete_me(
    body: AccountDeletion,
    request: Request,
    user: CurrentUser,
    db: DbSession,
    context: Context,
    response: Response,
) -> None:
    """Delete the account and everything of it: workspaces, runs, plots, terminals, sandboxes.

    Nothing of it is left on disk. The password is asked again, so a session
    left open cannot delete the account.
    """
    address = client_address(request)
    throttle = context.login_throttle
    wait = throttle.wait(user.username, address)
    if wait:
        seconds = retry_after_seconds(wait)
        raise RateLimited(f"Too many wrong passwords; try again in {seconds} seconds.", seconds)
    if not await verify_password(user.password_hash, body.password):
        throttle.failed(user.username, address)
        raise Forbidden("The password is wrong; the account was not deleted.")
    await accounts.delete_account(db, context.settings, user, context.end_workspace)
    # Their versions and snapshots went with the records; now the contents only they had.
    await context.history.collect()
    _forget_session(response)


def _forget_session(response: Response) -> None:
    """Delete the session cookie and its readable hint."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(SIGNED_IN_COOKIE, path="/", samesite="strict")
