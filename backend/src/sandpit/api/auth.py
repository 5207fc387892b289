"""Accounts and sessions: register, login, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from sandpit.api.deps import SESSION_COOKIE, Context, CurrentUser, DbSession
from sandpit.api.errors import responses
from sandpit.api.schemas import Credentials, LoginRequest, Token, UserOut
from sandpit.services import users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    responses=responses(409, e409="The username is taken."),
)
async def register(body: Credentials, db: DbSession) -> UserOut:
    user = await users.create_user(db, body.username, body.password)
    return UserOut.model_validate(user)


@router.post(
    "/login",
    response_model=Token,
    responses=responses(
        401, 429, e401="The username or password is wrong.", e429="Too many attempts."
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
        body.username,
        body.password,
        request.client.host if request.client else "unknown",
        per_account=settings.login_attempts_per_account,
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
    return Token(access_token=token, expires_in=settings.jwt_ttl_s)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
