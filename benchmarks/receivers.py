"""Loopback receivers for the delivery benchmark, each in its own process (so they do not
share the benchmark's interpreter lock): ``python -m benchmarks.receivers webhook|smtp``.

Prints ``ready PORT`` once listening; when its stdin closes, prints one JSON line
(messages received, client connections seen) and exits.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.peers: set[Any] = set()

    def add(self, peer: Any) -> None:
        with self.lock:
            self.messages += 1
            self.peers.add(peer)


def webhook(counter: Counter) -> tuple[int, Any]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            counter.add(self.client_address)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], server.shutdown


def smtp(counter: Counter) -> tuple[int, Any]:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            counter.add(session.peer)
            return "250 Message accepted for delivery"

    # aiosmtpd checks readiness by connecting to its port, so it needs a real number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    return port, controller.stop


def main() -> None:
    counter = Counter()
    port, stop = {"webhook": webhook, "smtp": smtp}[sys.argv[1]](counter)
    print(f"ready {port}", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    stop()
    print(json.dumps({"messages": counter.messages, "connections": len(counter.peers)}), flush=True)


if __name__ == "__main__":
    main()
