"""Fixtures for the reminder tests: apps with reminder settings, and loopback receivers.

The receivers are real servers on 127.0.0.1 (an HTTP webhook receiver thread and an
aiosmtpd SMTP server), so channels are exercised over real sockets, and they record the
idempotency key of everything they receive.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import make_test_app
from tracker.core.db import session_factory
from tracker.core.models import Reminder
from tracker.scheduler.tick import run_tick


def free_port(count: int = 1) -> int:
    """The first of ``count`` consecutive free ports, below the kernel's ephemeral range.

    A port the kernel also hands out as a client's source port can connect to itself while
    the server is not listening yet (TCP simultaneous open): a poll for ``GET /`` then reads
    its own request back as the answer. Ports under 32768 are never source ports here."""
    rng = random.Random()
    while True:
        first = rng.randrange(20000, 32000 - count)
        if all(_bindable(first + offset) for offset in range(count)):
            return first


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class WebhookReceiver:
    """An HTTP server that records each POST and answers with scripted status codes.

    ``on_message(key)`` runs before each POST is recorded and answered; an AssertionError it
    raises is kept in ``failures`` (the server thread cannot fail the test itself)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.on_message: Callable[[str], None] = lambda key: None
        self.failures: list[str] = []
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.statuses: list[int] = []  # answered in order; 200 once exhausted
        # Extra response headers, in order (e.g. Retry-After); none once exhausted.
        self.response_headers: list[dict[str, str]] = []
        self.delay = delay
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                try:
                    receiver.on_message(body["idempotency_key"])
                except AssertionError as exc:
                    receiver.failures.append(str(exc))
                with receiver.lock:
                    receiver.received.append(body)
                    receiver.headers.append(dict(self.headers))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    extra = receiver.response_headers.pop(0) if receiver.response_headers else {}
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def keys(self) -> list[str]:
        with self.lock:
            return [r["idempotency_key"] for r in self.received]

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


class RecordingHandler:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd on a fixed loopback port, so it can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = RecordingHandler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def reminder_app(app: Flask) -> Callable[..., Flask]:
    """An app on the test database with reminder settings overridden.

    The ``app`` fixture is kept alive alongside, so its clean-up empties the tables.
    """
    made: list[Flask] = []

    def _make(**config: Any) -> Flask:
        made_app = make_test_app(app.config["DATABASE_URL"], **config)
        made.append(made_app)
        return made_app

    yield _make
    for made_app in made:
        made_app.extensions["tracker.engine"].dispose()


def tick(app: Flask, now: datetime) -> dict[str, Any]:
    return run_tick(app, now, worker="test-worker")


def reminders(app: Flask) -> list[Reminder]:
    with session_factory(app)() as session:
        return list(session.scalars(select(Reminder).order_by(Reminder.id)))


def fresh(session: Session) -> Session:
    session.expire_all()
    return session
