"""Same-origin checks: is a browser's `Origin` this server's, or one allowed?

An origin is a (scheme, host, port) triple (RFC 6454); two origins are the
same only when all three are. Comparing the host alone would let a page
served over plain HTTP on the same name (a port a stranger runs on the same
host, or a man in the middle of an http:// visit) act with the session
cookie of an HTTPS site. Names compare without case; a missing port is the
scheme's default (80 for http, 443 for https); anything that is not an
http(s) origin is never the same as ours.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# A WebSocket's own scheme names the same origin as its HTTP twin.
_WEB_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """`scheme://host[:port]` as a normalized triple, or None if it is not one.

    Paths, queries, user info and the literal "null" (opaque origins) are not
    origins and give None, as does a port out of range.
    """
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = _WEB_SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    return scheme, parts.hostname.lower(), port if port is not None else _DEFAULT_PORTS[scheme]


def server_origin(scheme: str, host_header: str | None) -> Origin | None:
    """This server's origin as the request reached it: its scheme and `Host` header."""
    if not host_header:
        return None
    return parse_origin(f"{scheme}://{host_header}")


def origin_allowed(
    origin: str | None, scheme: str, host_header: str | None, allowed: Iterable[str]
) -> bool:
    """True if a request from `origin` may use the session cookie here.

    `scheme` is the request's (`http`, `https`, `ws`, `wss`; behind a proxy,
    what its X-Forwarded-Proto said), `host_header` its `Host`. A missing
    Origin (same-origin GETs, non-browser clients) is allowed; the cookie's
    SameSite=Strict keeps cross-site browsers from sending it anyway.
    """
    if origin is None:
        return True
    theirs = parse_origin(origin)
    if theirs is None:
        return False
    if any(parse_origin(entry) == theirs for entry in allowed):
        return True
    return server_origin(scheme, host_header) == theirs
