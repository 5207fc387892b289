"""A terminal test client: a real WebSocket to a real server, with `send()` and `read_until()`.

It speaks the protocol of CONTRACT.md: binary frames are terminal bytes,
text frames JSON control messages. By default it acknowledges output as it
reads it, like xterm.js after rendering; `auto_ack=False` makes a client
that never does.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from ssl import SSLContext
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

LOOKBACK = 4096


class Closed(Exception):
    """The server closed the socket; `code` and `reason` say why."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class Served(Protocol):
    """Where a server answers: a `SandpitServer`, or a proxy in front of one."""

    url: str


def ws_url(server: Served, workspace_id: str, terminal_id: str) -> str:
    base = server.url.replace("https://", "wss://").replace("http://", "ws://")
    return f"{base}/api/workspaces/{workspace_id}/terminals/{terminal_id}/ws"


class TerminalClient:
    def __init__(
        self,
        server: Served,
        token: str | None,
        workspace_id: str,
        terminal_id: str,
        *,
        auto_ack: bool = True,
        headers: dict[str, str] | None = None,
        origin: str | None = None,
        ssl: SSLContext | None = None,
    ) -> None:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        self.ws: ClientConnection = connect(
            ws_url(server, workspace_id, terminal_id),
            additional_headers=all_headers,
            origin=origin,  # type: ignore[arg-type]
            proxy=None,
            compression=None,
            max_size=None,
            open_timeout=10,
            legacy=True,  # a plain connection, closed by close()
            ssl=ssl,  # wss:// through a TLS proxy (tests/ops/test_proxies.py)
        )
        self.auto_ack = auto_ack
        self.output = bytearray()  # every output byte received
        self.received = 0  # output bytes received in this connection
        self.controls: list[dict[str, Any]] = []
        self.closed: Closed | None = None
        self._position = 0  # where the next read_until starts looking

    def __enter__(self) -> TerminalClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.ws.close()

    # --- sending ---------------------------------------------------------------

    def send(self, data: bytes | str) -> None:
        """Send terminal input (a binary frame)."""
        self.ws.send(data.encode() if isinstance(data, str) else data)

    def send_text(self, text: str) -> None:
        """Send a raw text frame (a control message, well-formed or not)."""
        self.ws.send(text)

    def send_json(self, message: dict[str, Any]) -> None:
        self.send_text(json.dumps(message))

    def resize(self, cols: int, rows: int) -> None:
        self.send_json({"type": "resize", "cols": cols, "rows": rows})

    def ack(self) -> None:
        # The server may have closed meanwhile; what it sent is still to be read.
        with contextlib.suppress(ConnectionClosed):
            self.send_json({"type": "ack", "bytes": self.received})

    # --- receiving -------------------------------------------------------------

    def _receive_one(self, timeout: float) -> bool:
        """Receive one frame; False if none came in time. Raises `Closed` once closed."""
        if self.closed is not None:
            raise self.closed
        try:
            frame = self.ws.recv(timeout=timeout)
        except TimeoutError:
            return False
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else None
            reason = exc.rcvd.reason if exc.rcvd else ""
            self.closed = Closed(code, reason)
            raise self.closed from None
        if isinstance(frame, bytes):
            self.output += frame
            self.received += len(frame)
            if self.auto_ack:
                self.ack()
        else:
            self.controls.append(json.loads(frame))
        return True

    def read_until(self, pattern: bytes | str, timeout: float = 20) -> re.Match[bytes]:
        """Read output until `pattern` (a regex) matches output not matched before."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        # Only look again where new output could complete a match (patterns are short).
        start = self._position
        while True:
            match = regex.search(self.output, start)
            start = max(self._position, len(self.output) - LOOKBACK)
            if match:
                self._position = match.end()
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = bytes(self.output[-2000:])
                raise TimeoutError(f"no {regex.pattern!r} within {timeout}s; output ends {tail!r}")
            try:
                self._receive_one(remaining)
            except Closed:
                match = regex.search(self.output, start)
                if match:
                    self._position = match.end()
                    return match
                raise

    def read_control(self, kind: str, timeout: float = 20) -> dict[str, Any]:
        """Read until a control message of `kind` arrives (earlier ones are kept)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.controls[seen:]:
                if message.get("type") == kind:
                    return message
            seen = len(self.controls)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {kind!r} control message within {timeout}s")
            self._receive_one(remaining)

    def read_close(self, timeout: float = 20) -> Closed:
        """Read (and discard nothing) until the server closes; return how."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the server did not close within {timeout}s")
            try:
                self._receive_one(remaining)
            except Closed as closed:
                return closed

    def drain(self, quiet: float = 0.3) -> None:
        """Read until nothing arrives for `quiet` seconds."""
        while self._receive_one(quiet):
            pass

    def run(self, command: str, timeout: float = 20) -> str:
        """Run a shell command and return its output (between unique markers)."""
        marker = f"M{time.monotonic_ns()}"
        # The markers are printed by printf, so the echoed command line never matches.
        self.send(
            f"printf '%s\\n' {marker[:1]}''{marker[1:]}-start; {command}; "
            f"printf '%s\\n' {marker[:1]}''{marker[1:]}-end\r"
        )
        self.read_until(f"{marker}-start\r\n", timeout)
        start = self._position
        match = self.read_until(f"{marker}-end\r\n", timeout)
        return self.output[start : match.start()].decode("utf-8", "replace")
