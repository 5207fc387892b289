"""A TCP proxy in front of a test server whose connections a test can cut at once.

What a browser sees when the network drops: every open connection (a run's
event stream, a terminal's WebSocket) ends without a goodbye; new ones work.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class DroppingProxy:
    """Forwards 127.0.0.1:`port` to `target`; `drop()` cuts every open connection.

    Each connection is two sockets and two threads, one per direction; the
    sockets are closed when both directions have ended (or at a drop).
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[tuple[socket.socket, socket.socket]] = set()
        self._halves: dict[tuple[socket.socket, socket.socket], int] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def drop(self) -> None:
        """End every connection open now, both ways, as a network drop would."""
        with self._lock:
            cut, self._open = self._open, set()
        for pair in cut:
            _end(pair)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        # shutdown wakes the accept() blocked in the other thread.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._acceptor.join(5)
        self._listener.close()
        self.drop()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self._lock:
                if self._closed:
                    _end(pair)
                    return
                self._open.add(pair)
            for source, sink in (pair, pair[::-1]):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(
        self, source: socket.socket, sink: socket.socket, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
        with self._lock:
            # The second direction to end closes the connection (the first half-closes it).
            self._halves[pair] = self._halves.get(pair, 0) + 1
            last = self._halves[pair] == 2
            if last:
                del self._halves[pair]
                self._open.discard(pair)
        if last:
            _end(pair)


def _end(pair: tuple[socket.socket, socket.socket]) -> None:
    for sock in pair:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
