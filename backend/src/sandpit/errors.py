"""Domain errors: what went wrong, in a sentence a person understands.

Services raise these; `sandpit.api.errors` maps every one of them to an HTTP
response in one place (status code plus `{"detail": ...}`), so no router or
service ever builds an error response by hand. Each class fixes its status
code; the instance carries the sentence. A platform failure is *not* one of
these: an unexpected exception becomes a 500 with a short message while the
log gets the cause.
"""

from __future__ import annotations


class SandpitError(Exception):
    """Base of every error a user may see. `detail` is shown as it is.

    `retry_after` (seconds), when set, becomes a `Retry-After` header;
    `extra` holds more fields for the JSON body beside `detail` (e.g. the
    sandboxes a user has running when they hit the cap on them).
    """

    status_code: int = 400
    retry_after: int | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, object] = {}


class BadRequest(SandpitError):
    """The request is malformed or asks for something impossible (400)."""

    status_code = 400


class InvalidPath(BadRequest):
    """A workspace path failed validation (400)."""


class Unauthorized(SandpitError):
    """No valid credentials (401)."""

    status_code = 401


class Forbidden(SandpitError):
    """Authenticated, but the role does not allow this (403)."""

    status_code = 403


class NotFound(SandpitError):
    """No such resource, or it belongs to someone else (404)."""

    status_code = 404


class Conflict(SandpitError):
    """The resource's state forbids the request: name taken, not empty (409)."""

    status_code = 409


class PayloadTooLarge(SandpitError):
    """A body, a file or a workspace would exceed its size limit (413)."""

    status_code = 413


class QuotaExceeded(PayloadTooLarge):
    """The workspace would pass its disk or file-count quota (413)."""


class UnsupportedMediaType(SandpitError):
    """The content is not what the endpoint accepts, e.g. binary for a text file (415)."""

    status_code = 415


class RateLimited(SandpitError):
    """Too many requests; `retry_after` says in how many seconds to try again (429)."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class ServiceUnavailable(SandpitError):
    """A dependency (sandbox backend, database) cannot serve right now (503)."""

    status_code = 503


class HostFull(ServiceUnavailable):
    """The host has no room for one more sandbox now; retry in `retry_after` seconds (503)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)
