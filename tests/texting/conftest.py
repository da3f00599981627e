"""Fixtures for two-way texts: an app that reads replies (the gateway's shared secret set),
the fake gateway posting through the test client, and a patient whose phone can be texted.

The request clock is frozen at ``NOW`` (Saturday 2026-11-21 10:00 in New York; the default
patient had the procedure the day before); tests move it with ``at(app, instant)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import NOW, _empty_tables, make_test_app
from tracker.core.models import TextMessage
from tracker.plans.enrollment import Enrollment
from tracker.scheduler.tick import run_tick
from tracker.texting.fake_gateway import FakeGateway, Transport

SECRET = "test-sms-gateway-secret-0123456789"
PHONE = "(555) 201-0142"
NUMBER = "+15552010142"
BASE_URL = "http://localhost"


def texting_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "FIXED_NOW": NOW,
        "SMS_INBOUND_SECRET": SECRET,
        "WTF_CSRF_ENABLED": False,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = make_test_app(database_url, **texting_config())
    yield app
    _empty_tables(app)
    app.extensions["tracker.engine"].dispose()


def at(app: Flask, instant: datetime) -> None:
    """Move the app's request clock."""
    app.config["FIXED_NOW"] = instant


def client_transport(app: Flask) -> Transport:
    """The fake gateway's posts, through Flask's test client (the URL's path and query)."""
    client = app.test_client()

    def post(url: str, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.post(path, data=form, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    return post


@pytest.fixture
def fake(app: Flask) -> FakeGateway:
    return FakeGateway(app_url=BASE_URL, secret=SECRET, transport=client_transport(app))


@pytest.fixture
def patient(enroll_patient: Callable[..., Enrollment]) -> Enrollment:
    return enroll_patient(phone=PHONE)


def count(session: Session, model: Any, *where: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def texts(session: Session, **where: Any) -> list[TextMessage]:
    session.expire_all()
    query = select(TextMessage).order_by(TextMessage.created_at, TextMessage.id)
    for name, value in where.items():
        query = query.where(getattr(TextMessage, name) == value)
    return list(session.scalars(query))


class GatewayServer:
    """The fake gateway's web app on a loopback port: the tracker's webhook channel posts
    its texts to it over real HTTP, as it would to a real gateway."""

    def __init__(self, fake: FakeGateway) -> None:
        from werkzeug.serving import make_server

        from tracker.texting.fake_gateway import make_app

        self.fake = fake
        self.server = make_server("127.0.0.1", 0, make_app(fake), threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway_server(app: Flask, fake: FakeGateway, session: Session) -> Iterator[GatewayServer]:
    """Texts go out through the webhook channel to the fake gateway (every clinic's choice)."""
    server = GatewayServer(fake)
    app.config["WEBHOOK_URL"] = server.url
    app.config["REMINDER_CHANNEL"] = "webhook"
    yield server
    server.close()


def tick(app: Flask, now: datetime) -> dict[str, Any]:
    """One scheduler tick at ``now`` (alerts, paging, plan and deliver)."""
    summary = run_tick(app, now, worker="test-worker")
    assert not any(key.endswith("_failed") for key in summary), summary
    return summary
