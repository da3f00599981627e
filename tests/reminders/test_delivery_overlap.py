"""The deliver step writes the next message while the previous one is on its way, yet
hands a message over only once the one before it is recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.reminders.conftest import reminders
from tracker.db import session_factory
from tracker.models import Reminder
from tracker.tick import run_tick


class Receiver:
    """A webhook receiver that runs ``on_message(key)`` before answering each POST."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.on_message: Callable[[str], None] = lambda key: None
        self.failures: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                try:
                    receiver.on_message(body["idempotency_key"])
                except AssertionError as exc:
                    receiver.failures.append(str(exc))
                receiver.keys.append(body["idempotency_key"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


def _enroll(enroll_patient, count: int) -> None:
    for n in range(count):
        enroll_patient(name=f"Patient {n}", phone="555-0100")


def test_it_records_each_message_before_handing_over_the_next(
    app, enroll_patient, reminder_app, receiver
) -> None:
    _enroll(enroll_patient, 7)
    hooks = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=receiver.url)

    def everything_before_is_recorded(key: str) -> None:
        with session_factory(app)() as session:
            sent = set(
                session.scalars(select(Reminder.idempotency_key).where(Reminder.status == "sent"))
            )
        assert set(receiver.keys) <= sent, f"{key} arrived before {set(receiver.keys) - sent}"

    receiver.on_message = everything_before_is_recorded
    summary = run_tick(hooks, NOW, worker="test-worker")

    assert summary["sent"] == 7 and receiver.failures == []
    assert len(receiver.keys) == len(set(receiver.keys)) == 7
    assert {r.status for r in reminders(app)} == {"sent"}


def test_a_stop_during_a_send_ends_the_step_after_recording_it(
    app, enroll_patient, reminder_app, receiver
) -> None:
    _enroll(enroll_patient, 6)
    hooks = reminder_app(REMINDER_CHANNEL="webhook", WEBHOOK_URL=receiver.url)
    stop = threading.Event()

    def stop_at_the_second(key: str) -> None:
        if len(receiver.keys) == 1:
            stop.set()  # SIGTERM while the second message is on its way

    receiver.on_message = stop_at_the_second
    run_tick(hooks, NOW, worker="test-worker", stop=stop)

    # The message on its way was recorded; the one already written out was not sent.
    assert len(receiver.keys) == 2
    rows = {r.idempotency_key: r for r in reminders(app)}
    assert {rows[key].status for key in receiver.keys} == {"sent"}
    rest = [r for key, r in rows.items() if key not in receiver.keys]
    assert len(rest) == 4
    assert all(r.status == "pending" and r.locked_by is None for r in rest)
