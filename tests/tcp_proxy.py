"""A TCP relay on loopback in front of a shared server (PostgreSQL, Redis, RabbitMQ), so that a
fault test can take "the server" away and bring it back without stopping the real one that
other tests and people use.

``TcpProxy(5432)`` listens on a free port of its own (:attr:`port`); :meth:`stop` closes the
listener and every connection through it (clients see their connections reset and new ones
refused, as when the server went away); :meth:`start` listens again on the same port.
"""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager


class TcpProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self.start()

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> "TcpProxy":
        with self._lock:
            if self._server is None:
                server = socket.create_server(("127.0.0.1", self.port))  # SO_REUSEADDR: same port again
                self.port = server.getsockname()[1]
                self._server = server
                threading.Thread(target=self._accept, args=(server,), daemon=True,
                                 name=f"proxy-{self.port}").start()
        return self

    def stop(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            connections, self._connections = self._connections, []
        for sock in ([server] if server else []) + connections:
            _close(sock)

    @contextmanager
    def down(self, seconds: float):
        """``with proxy.down(2): ...``: the server is away for ``seconds`` from the start of the
        block (or for the block, if it takes longer), then back."""
        self.stop()
        started = time.monotonic()
        try:
            yield self
        finally:
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
            self.start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:  # closed by stop()
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._server is not server:  # stopped meanwhile
                    _close(client), _close(upstream)
                    return
                self._connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source), _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
