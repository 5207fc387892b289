"""Password hashing with argon2id (the OWASP recommendation).

Hashing is deliberately slow and uses 64 MiB, so the async functions run it
in a worker thread (the event loop keeps serving) and at most a few at once
(a burst of sign-ins cannot exhaust memory).
"""

from __future__ import annotations

import threading
from functools import cache

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_at_once = threading.BoundedSemaphore(4)


@cache
def _dummy_hash() -> str:
    # Verified against when a username does not exist, so that a login for an
    # unknown user costs the same time as one for a known user and timing does
    # not reveal which usernames are taken.
    return _hasher.hash("sandpit-dummy-password")


def hash_password_sync(password: str) -> str:
    with _at_once:
        return _hasher.hash(password)


def verify_password_sync(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; with `password_hash=None`, spend the time and return False."""
    try:
        with _at_once:
            matched = _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


async def hash_password(password: str) -> str:
    return await to_thread.run_sync(hash_password_sync, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await to_thread.run_sync(verify_password_sync, password_hash, password)
