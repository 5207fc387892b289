"""Accounts: registration, sign-in and lookup."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Role, User
from sandpit.errors import BadRequest, Conflict, RateLimited, Unauthorized
from sandpit.security.passwords import hash_password, verify_password
from sandpit.security.ratelimit import RateLimiter, retry_after_seconds

USERNAME_RE = re.compile(r"^[a-z0-9_-]{3,32}$")
PASSWORD_MIN, PASSWORD_MAX = 8, 128


def check_credentials_shape(username: str, password: str) -> None:
    """Raise `BadRequest` unless the username and password follow the rules."""
    if not USERNAME_RE.fullmatch(username):
        raise BadRequest(
            "A username is 3 to 32 characters of lower-case letters, digits, '_' and '-'."
        )
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadRequest(f"A password is {PASSWORD_MIN} to {PASSWORD_MAX} characters long.")


async def create_user(
    db: AsyncSession, username: str, password: str, role: Role = Role.USER
) -> User:
    """Create an account. Raises `BadRequest` for a bad shape, `Conflict` if the name is taken."""
    check_credentials_shape(username, password)
    user = User(username=username, password_hash=await hash_password(password), role=role.value)
    db.add(user)
    try:
        await db.commit()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(f"The username {username!r} is already taken.") from exc
    return user


async def authenticate(
    db: AsyncSession,
    limiter: RateLimiter,
    username: str,
    password: str,
    address: str,
    *,
    per_account: int,
    per_address: int,
    window_s: int,
) -> User:
    """Return the user whose credentials these are.

    Failed attempts are counted per account and per client address; once
    either passes its limit within the window, `RateLimited` is raised before
    the password is even checked, so guessing gains nothing. Successful
    sign-ins are not counted (a classroom behind one NAT address signs in at
    once) and clear the account's count. Wrong credentials raise
    `Unauthorized` without saying which part was wrong.
    """
    keys = ((f"login:user:{username}", per_account), (f"login:addr:{address}", per_address))
    for key, limit in keys:
        wait = limiter.peek(key, limit, window_s)
        if wait:
            seconds = retry_after_seconds(wait)
            raise RateLimited(
                f"Too many failed sign-in attempts; try again in {seconds} seconds.", seconds
            )
    user = await db.scalar(select(User).where(User.username == username))
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        for key, limit in keys:
            limiter.hit(key, limit, window_s)
        raise Unauthorized("The username or password is wrong.")
    limiter.reset(keys[0][0])
    return user


async def get_user(db: AsyncSession, user_id: str) -> User | None:
    return await db.get(User, user_id)


async def set_role(db: AsyncSession, username: str, role: Role) -> User:
    user = await db.scalar(select(User).where(User.username == username))
    if user is None:
        raise BadRequest(f"There is no user named {username!r}.")
    user.role = role.value
    await db.commit()
    return user
