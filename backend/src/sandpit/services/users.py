"""Accounts: registration, sign-in and lookup."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sandpit.db.models import Role, User
from sandpit.errors import BadRequest, Conflict, Forbidden, RateLimited, Unauthorized
from sandpit.security.login_throttle import LoginThrottle
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
    db: AsyncSession, username: str, password: str, role: Role = Role.USER, *, commit: bool = True
) -> User:
    """Create an account. Raises `BadRequest` for a bad shape, `Conflict` if the name is taken.

    With `commit=False` the account is only flushed, so the caller can make
    it part of a larger transaction (an invitation used up with it)."""
    check_credentials_shape(username, password)
    user = User(username=username, password_hash=await hash_password(password), role=role.value)
    db.add(user)
    try:
        if commit:
            await db.commit()
        else:
            await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict(f"The username {username!r} is already taken.") from exc
    return user


async def authenticate(
    db: AsyncSession,
    limiter: RateLimiter,
    throttle: LoginThrottle,
    username: str,
    password: str,
    address: str,
    *,
    per_address: int,
    window_s: int,
) -> User:
    """Return the user whose credentials these are.

    Failed attempts are throttled per (account, address) with growing delays
    (`LoginThrottle`), and counted per address (`per_address` within
    `window_s`, any account). While either holds, `RateLimited` is raised
    before the password is even checked, so guessing gains nothing; the
    owner signing in from another address is not held back by a stranger's
    failures. Successful sign-ins are not counted (a classroom behind one NAT
    address signs in at once) and clear their pair's failures. Wrong
    credentials raise `Unauthorized` without saying which part was wrong; a
    disabled account, with the right password, `Forbidden`.
    """
    address_key = f"login:addr:{address}"
    wait = max(throttle.wait(username, address), limiter.peek(address_key, per_address, window_s))
    if wait:
        seconds = retry_after_seconds(wait)
        raise RateLimited(
            f"Too many failed sign-in attempts; try again in {seconds} seconds.", seconds
        )
    user = await db.scalar(select(User).where(User.username == username))
    if not await verify_password(user.password_hash if user else None, password) or user is None:
        throttle.failed(username, address)
        limiter.hit(address_key, per_address, window_s)
        raise Unauthorized("The username or password is wrong.")
    throttle.succeeded(username, address)
    if user.disabled:
        raise Forbidden("This account is disabled; ask an administrator.")
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


async def get_by_name(db: AsyncSession, username: str) -> User | None:
    return await db.scalar(select(User).where(User.username == username))
