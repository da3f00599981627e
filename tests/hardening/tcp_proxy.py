"""A loopback TCP forwarder that can be cut, silenced and restored, to simulate a database
outage: ``stop`` is a database that goes away (connections reset, new ones refused);
``silence`` is one that stops answering (packets dropped: nothing is refused or reset, and
nothing comes back)."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        # Sockets of silenced connections: kept open, their traffic dropped.
        self._held: set[socket.socket] = set()
        self._silent = False
        self._lock = threading.Lock()

    def start(self) -> None:
        self._silent = False
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.2)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one, like a database going away."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            conns = [*self._conns, *self._held]
            self._conns.clear()
            self._held.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def silence(self) -> None:
        """Stop answering, like a database host whose packets are dropped: open connections
        stay open but nothing more is forwarded either way, and new connections are
        accepted (by the kernel, as a listening socket does) but never answered."""
        with self._lock:
            self._silent = True
            self._held.update(self._conns)
            self._conns.clear()

    def resume(self) -> None:
        """Answer again. The connections that went silent are closed, as a real silent
        peer's connections are dead by the time it comes back; new ones are forwarded."""
        with self._lock:
            self._silent = False
            held = list(self._held)
            self._held.clear()
        for conn in held:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                if self._silent:
                    self._held.add(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                if src in self._held:
                    continue  # silenced: dropped
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()
