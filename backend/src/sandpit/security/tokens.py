"""Signed access tokens (JWT, HS256) carrying the user id and an expiry."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from sandpit.errors import Unauthorized

_ALGORITHM = "HS256"
_AUDIENCE = "sandpit"


@dataclass(frozen=True)
class TokenCodec:
    """Issues and checks tokens with one secret and lifetime."""

    secret: str
    ttl_s: int

    def issue(self, user_id: str, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"sub": user_id, "iat": issued, "exp": issued + self.ttl_s, "aud": _AUDIENCE}
        return jwt.encode(claims, self.secret, algorithm=_ALGORITHM)

    def user_id(self, token: str) -> str:
        """Return the user id in `token`; raise `Unauthorized` if it is invalid or expired."""
        return self.subject_and_expiry(token)[0]

    def subject_and_expiry(self, token: str) -> tuple[str, int]:
        """The user id in `token` and when it expires (Unix seconds); `Unauthorized` as above."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Your session has expired; please sign in again.") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("The access token is not valid; please sign in again.") from exc
        subject, expires = claims["sub"], claims["exp"]
        if not isinstance(subject, str) or not isinstance(expires, int):
            raise Unauthorized("The access token is not valid; please sign in again.")
        return subject, expires
