"""Loopback receivers for the delivery benchmark, each in its own process (so they do not
share the benchmark's interpreter lock): ``python -m benchmarks.receivers webhook|smtp``.

Prints ``ready PORT`` once listening; when its stdin closes, prints one JSON line
(messages received, their bytes, client connections seen) and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.bytes = 0
        self.peers: set[Any] = set()

    def add(self, peer: Any, size: int) -> None:
        with self.lock:
            self.messages += 1
            self.bytes += size
            self.peers.add(peer)


def webhook(counter: Counter) -> tuple[int, Any]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            counter.add(self.client_address, len(body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1], server.shutdown


class SMTPReceiver(asyncio.Protocol):
    """A small SMTP server (RFC 5321's minimum: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
    QUIT), written for this benchmark because aiosmtpd, which the tests use, spends about
    0.8 ms of CPU per reminder reading the message a line at a time, on the two CPUs the
    measured process also runs on. Every message is still received in full (up to the
    lone "." line), un-dot-stuffed, accepted with a 250 only then, and counted."""

    def __init__(self, counter: Counter) -> None:
        self.counter = counter
        self.buffer = b""
        self.in_data = False
        self.sender: bytes | None = None
        self.recipients: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        transport.write(b"220 127.0.0.1 ESMTP benchmark receiver\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                # The message ends with a line holding a lone "." (possibly its first line).
                if self.buffer.startswith(b".\r\n"):
                    end, rest = 0, 3
                else:
                    end = self.buffer.find(b"\r\n.\r\n")
                    if end < 0:
                        break
                    end, rest = end + 2, end + 5
                content = self.buffer[:end].replace(b"\r\n..", b"\r\n.")
                if content.startswith(b".."):
                    content = content[1:]
                self.buffer = self.buffer[rest:]
                self.in_data = False
                self.sender, self.recipients = None, []
                self.counter.add(self.peer, len(content))
                replies.append(b"250 Message accepted for delivery")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
            reply = self.command(line)
            replies.append(reply)
            if reply.startswith(b"221"):
                self.transport.write(b"\r\n".join(replies) + b"\r\n")
                self.transport.close()
                return
        if replies:
            self.transport.write(b"\r\n".join(replies) + b"\r\n")

    def command(self, line: bytes) -> bytes:
        verb, _, argument = line.partition(b" ")
        verb = verb.upper()
        if verb == b"EHLO":
            return b"250-127.0.0.1\r\n250 8BITMIME"
        if verb == b"HELO" or verb == b"NOOP":
            return b"250 OK"
        if verb == b"MAIL":
            if self.sender is not None:
                return b"503 Error: nested MAIL command"
            if not argument.upper().startswith(b"FROM:"):
                return b"501 Syntax: MAIL FROM:<address>"
            self.sender = argument[5:]
            return b"250 OK"
        if verb == b"RCPT":
            if self.sender is None:
                return b"503 Error: need MAIL command"
            if not argument.upper().startswith(b"TO:"):
                return b"501 Syntax: RCPT TO:<address>"
            self.recipients.append(argument[3:])
            return b"250 OK"
        if verb == b"DATA":
            if not self.recipients:
                return b"503 Error: need RCPT command"
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>"
        if verb == b"RSET":
            self.sender, self.recipients = None, []
            return b"250 OK"
        if verb == b"QUIT":
            return b"221 Bye"
        return b"500 Error: command not recognized"


def smtp(counter: Counter) -> tuple[int, Any]:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTPReceiver(counter), "127.0.0.1", 0)
    )
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def stop() -> None:
        loop.call_soon_threadsafe(loop.stop)

    return server.sockets[0].getsockname()[1], stop


def main() -> None:
    counter = Counter()
    port, stop = {"webhook": webhook, "smtp": smtp}[sys.argv[1]](counter)
    print(f"ready {port}", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    stop()
    stats = {
        "messages": counter.messages,
        "bytes": counter.bytes,
        "connections": len(counter.peers),
    }
    print(json.dumps(stats), flush=True)


if __name__ == "__main__":
    main()
