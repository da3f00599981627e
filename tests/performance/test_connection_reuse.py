"""A deliver step sends its messages over kept connections (SMTP session, HTTP keep-alive)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.conftest import NOW, make_test_app
from tests.reminders.conftest import free_port
from tracker.reminders.channels import EmailChannel
from tracker.reminders.messages import OutgoingMessage
from tracker.scheduler.tick import run_tick


class PeerRecorder:
    """aiosmtpd handler: which client connection (address, port) each message came on."""

    def __init__(self) -> None:
        self.peers: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[int, PeerRecorder]]:
    port, handler = free_port(), PeerRecorder()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


@pytest.fixture
def keep_alive_receiver() -> Iterator[tuple[str, list[Any]]]:
    peers: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open, as real gateways do

        def do_POST(self) -> None:
            json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            peers.append(self.client_address)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", peers
    server.shutdown()
    server.server_close()


def _tick(app: Flask, **config: Any) -> dict[str, Any]:
    made = make_test_app(app.config["DATABASE_URL"], **config)
    try:
        return run_tick(made, NOW, worker="test-worker")
    finally:
        made.extensions["tracker.engine"].dispose()


def test_it_sends_a_ticks_emails_over_one_smtp_connection(app, enroll_patient, smtp) -> None:
    port, handler = smtp
    for n in range(3):
        enroll_patient(name=f"Pat {n}", email=f"pat{n}@example.org")

    summary = _tick(app, SMTP_HOST="127.0.0.1", SMTP_PORT=port)

    assert summary["sent"] == 3
    assert len(handler.peers) == 3 and len(set(handler.peers)) == 1


def test_it_posts_a_ticks_webhooks_over_one_connection(
    app, enroll_patient, keep_alive_receiver
) -> None:
    url, peers = keep_alive_receiver
    for n in range(3):
        enroll_patient(name=f"Pat {n}")

    summary = _tick(app, REMINDER_CHANNEL="webhook", WEBHOOK_URL=url)

    assert summary["sent"] == 3
    assert len(peers) == 3 and len(set(peers)) == 1


def test_it_reconnects_when_the_smtp_server_dropped_the_kept_connection() -> None:
    port = free_port()
    handler = PeerRecorder()
    channel = EmailChannel(host="127.0.0.1", port=port, sender="t@localhost", base_url="http://x")
    message = OutgoingMessage(
        idempotency_key="reminder-1-daily-2026-11-21",
        kind="daily",
        local_day=NOW.date(),
        subject="Your recovery plan for today",
        text="Hello",
        html="<p>Hello</p>",
        short_text="Hello",
        link="http://x/p/token",
        patient_id=1,
        patient_name="Pat",
        email="pat@example.org",
        phone=None,
        clinic_name="Clinic",
        clinic_phone="555-0100",
    )
    try:
        for _ in range(2):  # the server restarts between the two messages
            controller = Controller(handler, hostname="127.0.0.1", port=port)
            controller.start()
            try:
                channel.send(message)
            finally:
                controller.stop()
    finally:
        channel.close()

    assert len(handler.peers) == 2 and handler.peers[0] != handler.peers[1]
